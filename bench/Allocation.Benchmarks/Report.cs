using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Allocation.Benchmarks;

/// <summary>The run's figures as a console table, a Markdown report and an SVG chart.</summary>
internal static class Report
{
    public static string Table(JsonObject report)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"scenario",-40} {"req/s",9} {"x trivial",9} {"p50 ms",8} {"p99 ms",8} {"max ms",8} {"non-2xx",8} {"5xx",5}");
        foreach (var scenario in Scenarios(report))
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{scenario["name"],-40} {N(scenario, "rps"),9:0} {Ratio(scenario),9} {N(scenario, "p50_ms"),8:0.00} {N(scenario, "p99_ms"),8:0.00} {N(scenario, "max_ms"),8:0.00} {scenario["non_2xx"],8} {scenario["errors_5xx"],5}");
        }

        if (report["events"] is JsonObject events)
        {
            foreach (var (name, value) in events)
            {
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"{EventLabel(name),-40} events {value!["events"]}, p50 {N(value, "p50_ms"):0.00} ms, p99 {N(value, "p99_ms"):0.00} ms, max {N(value, "max_ms"):0.00} ms, lost {value["lost"]}");
            }
        }

        foreach (var growth in Growth(report))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{"allocate with " + growth["existing_allocations"] + " existing",-40} p50 {N(growth, "p50_ms"):0.000} ms");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"start-up to ready {report["startup_ms"]} ms; RSS idle {report["rss_idle_mb"]} MB, under load {report["rss_load_mb"]} MB");
        return text.ToString();
    }

    public static string Markdown(JsonObject report, string chartFile)
    {
        var machine = report["machine"]!;
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# Benchmark run {report["timestamp"]}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"{machine["cores"]} cores, {machine["os"]}, .NET {machine["dotnet"]}, Redis: {machine["redis"]}, durability: {machine["durability"]}. Load generator: wrk on the same machine.");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"![figures]({chartFile})");
        md.AppendLine();
        md.AppendLine("| scenario | req/s | × trivial route | p50 ms | p99 ms | max ms | non-2xx | 5xx |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var scenario in Scenarios(report))
        {
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {scenario["name"]} | {N(scenario, "rps"):0} | {Ratio(scenario)} | {N(scenario, "p50_ms"):0.00} | {N(scenario, "p99_ms"):0.00} | {N(scenario, "max_ms"):0.00} | {scenario["non_2xx"]} | {scenario["errors_5xx"]} |");
        }

        if (report["events"] is JsonObject events)
        {
            md.AppendLine();
            md.AppendLine("| event round trip | events | p50 ms | p99 ms | max ms | lost |");
            md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: |");
            foreach (var (name, value) in events)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| {EventLabel(name)} | {value!["events"]} | {N(value, "p50_ms"):0.00} | {N(value, "p99_ms"):0.00} | {N(value, "max_ms"):0.00} | {value["lost"]} |");
            }
        }

        var growth = Growth(report).ToList();
        if (growth.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("| existing allocations of the SKU | allocate p50 ms | p99 ms |");
            md.AppendLine("| ---: | ---: | ---: |");
            foreach (var row in growth)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| {row["existing_allocations"]} | {N(row, "p50_ms"):0.000} | {N(row, "p99_ms"):0.000} |");
            }

            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"p50 at 100,000 ÷ p50 at 10 = {report["growth_ratio_100k_to_10"]}");
        }

        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Start-up to ready: {report["startup_ms"]} ms. Resident memory: {report["rss_idle_mb"]} MB idle, {report["rss_load_mb"]} MB peak under load.");
        return md.ToString();
    }

    /// <summary>Horizontal bars: throughput per scenario, then p50 latency by existing allocations.</summary>
    public static string Chart(JsonObject report)
    {
        var scenarios = Scenarios(report).ToList();
        var growth = Growth(report).ToList();
        const int width = 960, left = 330, barHeight = 22, gap = 8;
        var height = 70 + (scenarios.Count * (barHeight + gap)) + 60 + (growth.Count * (barHeight + gap)) + 20;
        var svg = new StringBuilder();
        svg.AppendLine(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"13\">");
        svg.AppendLine("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        var y = 25;
        Bars($"Throughput (requests/s), run {report["timestamp"]}", "#3b6ea8", scenarios.Select(scenario => (
            WebUtility.HtmlEncode(scenario["name"]!.ToString()),
            N(scenario, "rps"),
            string.Create(CultureInfo.InvariantCulture, $"{N(scenario, "rps"):0} (p99 {N(scenario, "p99_ms"):0.0} ms)"))));
        y += 30;
        Bars("POST /allocate p50 (ms) by existing allocations of the SKU", "#c4722f", growth.Select(row => (
            $"{row["existing_allocations"]} existing",
            N(row, "p50_ms"),
            string.Create(CultureInfo.InvariantCulture, $"{N(row, "p50_ms"):0.000} ms"))));

        svg.AppendLine("</svg>");
        return svg.ToString();

        // A bold title, then one bar per (label, value, note), scaled so the largest value spans the width.
        void Bars(string title, string fill, IEnumerable<(string Label, double Value, string Note)> bars)
        {
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"10\" y=\"{y}\" font-weight=\"bold\">{title}</text>");
            y += 20;
            var rows = bars.ToList();
            var max = rows.Select(bar => bar.Value).DefaultIfEmpty(1).Max();
            foreach (var (label, value, note) in rows)
            {
                var w = (width - left - 170) * value / max;
                svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{left - 8}\" y=\"{y + 16}\" text-anchor=\"end\">{label}</text>");
                svg.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{left}\" y=\"{y}\" width=\"{w:0.0}\" height=\"{barHeight}\" fill=\"{fill}\"/>");
                svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{left + w + 6:0.0}\" y=\"{y + 16}\">{note}</text>");
                y += barHeight + gap;
            }
        }
    }

    private static string EventLabel(string name) => name switch
    {
        "reallocation_round_trip" => "change_batch_quantity in → line_allocated out",
        "allocate_to_line_allocated" => "POST /allocate → line_allocated out",
        _ => name,
    };

    private static IEnumerable<JsonNode> Scenarios(JsonObject report) => report["scenarios"]?.AsArray().Select(node => node!) ?? [];

    private static IEnumerable<JsonNode> Growth(JsonObject report) => report["growth"]?.AsArray().Select(node => node!) ?? [];

    private static double N(JsonNode node, string name) => node[name]?.GetValue<double>() ?? double.NaN;

    private static string Ratio(JsonNode scenario) =>
        scenario["ratio_to_trivial"] is { } ratio ? ratio.GetValue<double>().ToString("0.00", CultureInfo.InvariantCulture) : "—";
}
