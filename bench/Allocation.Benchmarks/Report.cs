using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Allocation.Benchmarks;

/// <summary>
/// The run's figures as a console table, a Markdown report and an SVG chart. A run on more than one setup,
/// or on another than the default (SQLite, one instance), has a "setups" list and a "setup" on every
/// scenario; its tables put the setups of each scenario on rows next to each other.
/// </summary>
internal static class Report
{
    public static string Table(JsonObject report)
    {
        var labelled = IsLabelled(report);
        var setupWidth = Sections(report).Select(section => Label(section).Length).DefaultIfEmpty(0).Max();
        string SetupColumn(string label) => labelled ? label.PadRight(setupWidth) + " " : "";

        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{SetupColumn("setup")}{"scenario",-40} {"req/s",9} {"x trivial",9} {"p50 ms",8} {"p99 ms",8} {"max ms",8} {"non-2xx",8} {"5xx",5}");
        foreach (var scenario in Grouped(report))
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{SetupColumn(scenario["setup"]?.ToString() ?? "")}{scenario["name"],-40} {N(scenario, "rps"),9:0} {Ratio(scenario),9} {N(scenario, "p50_ms"),8:0.00} {N(scenario, "p99_ms"),8:0.00} {N(scenario, "max_ms"),8:0.00} {scenario["non_2xx"],8} {scenario["errors_5xx"],5}");
        }

        foreach (var section in Sections(report))
        {
            var prefix = labelled ? $"[{Label(section)}] " : "";
            if (section["events"] is JsonObject events)
            {
                foreach (var (name, value) in events)
                {
                    text.AppendLine(CultureInfo.InvariantCulture,
                        $"{prefix}{EventLabel(name),-40} events {value!["events"]}, p50 {N(value, "p50_ms"):0.00} ms, p99 {N(value, "p99_ms"):0.00} ms, max {N(value, "max_ms"):0.00} ms, lost {value["lost"]}");
                }
            }

            foreach (var growth in Growth(section))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"{prefix}{"allocate with " + growth["existing_allocations"] + " existing",-40} p50 {N(growth, "p50_ms"):0.000} ms");
            }

            var processes = Processes(section);
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{prefix}start-up to ready {Each(processes, "startup_ms")} ms; RSS idle {Each(processes, "rss_idle_mb")} MB, under load {Each(processes, "rss_load_mb")} MB");
        }

        return text.ToString();
    }

    public static string Markdown(JsonObject report, string chartFile)
    {
        var labelled = IsLabelled(report);
        var machine = report["machine"]!;
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# Benchmark run {report["timestamp"]}");
        md.AppendLine();
        if (labelled)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"{machine["cores"]} cores, {machine["os"]}, .NET {machine["dotnet"]}, Redis: {machine["redis"]}. Load generator: wrk on the same machine. Setups, one after the other:");
            md.AppendLine();
            foreach (var section in Sections(report))
            {
                var processes = Processes(section);
                var balancer = section["load_balancer"] is { } name ? $"; {name} in front, which wrk and the trivial route go through" : "";
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"- **{Label(section)}**: {section["database"]}, {section["durability"]}{balancer}. Start-up to ready: {Each(processes, "startup_ms")} ms. Resident memory{(processes.Count > 1 ? " per instance" : "")}: {Each(processes, "rss_idle_mb")} MB idle, {Each(processes, "rss_load_mb")} MB peak under load.");
            }
        }
        else
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"{machine["cores"]} cores, {machine["os"]}, .NET {machine["dotnet"]}, Redis: {machine["redis"]}, durability: {machine["durability"]}. Load generator: wrk on the same machine.");
        }

        var setupHeader = labelled ? "| setup " : "";
        var setupRule = labelled ? "| --- " : "";
        string SetupCell(JsonNode row) => labelled ? $"| {row["setup"]} " : "";

        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"![figures]({chartFile})");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"{setupHeader}| scenario | req/s | × trivial route | p50 ms | p99 ms | max ms | non-2xx | 5xx |");
        md.AppendLine(CultureInfo.InvariantCulture, $"{setupRule}| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var scenario in Grouped(report))
        {
            md.AppendLine(CultureInfo.InvariantCulture,
                $"{SetupCell(scenario)}| {scenario["name"]} | {N(scenario, "rps"):0} | {Ratio(scenario)} | {N(scenario, "p50_ms"):0.00} | {N(scenario, "p99_ms"):0.00} | {N(scenario, "max_ms"):0.00} | {scenario["non_2xx"]} | {scenario["errors_5xx"]} |");
        }

        var withEvents = Sections(report).Where(section => section["events"] is JsonObject).ToList();
        if (withEvents.Count > 0)
        {
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"{setupHeader}| event round trip | events | p50 ms | p99 ms | max ms | lost |");
            md.AppendLine(CultureInfo.InvariantCulture, $"{setupRule}| --- | ---: | ---: | ---: | ---: | ---: |");
            foreach (var section in withEvents)
            {
                foreach (var (name, value) in section["events"]!.AsObject())
                {
                    md.AppendLine(CultureInfo.InvariantCulture,
                        $"{(labelled ? $"| {Label(section)} " : "")}| {EventLabel(name)} | {value!["events"]} | {N(value, "p50_ms"):0.00} | {N(value, "p99_ms"):0.00} | {N(value, "max_ms"):0.00} | {value["lost"]} |");
                }
            }
        }

        var withGrowth = Sections(report).Where(section => Growth(section).Any()).ToList();
        if (withGrowth.Count > 0)
        {
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"{setupHeader}| existing allocations of the SKU | allocate p50 ms | p99 ms |");
            md.AppendLine(CultureInfo.InvariantCulture, $"{setupRule}| ---: | ---: | ---: |");
            foreach (var section in withGrowth)
            {
                foreach (var row in Growth(section))
                {
                    md.AppendLine(CultureInfo.InvariantCulture,
                        $"{(labelled ? $"| {Label(section)} " : "")}| {row["existing_allocations"]} | {N(row, "p50_ms"):0.000} | {N(row, "p99_ms"):0.000} |");
                }
            }

            md.AppendLine();
            foreach (var section in withGrowth)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"{(labelled ? $"{Label(section)}: " : "")}p50 at 100,000 ÷ p50 at 10 = {section["growth_ratio_100k_to_10"]}");
            }
        }

        if (!labelled)
        {
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"Start-up to ready: {report["startup_ms"]} ms. Resident memory: {report["rss_idle_mb"]} MB idle, {report["rss_load_mb"]} MB peak under load.");
        }

        return md.ToString();
    }

    /// <summary>Horizontal bars: throughput per scenario, then p50 latency by existing allocations.</summary>
    public static string Chart(JsonObject report)
    {
        var labelled = IsLabelled(report);
        var scenarios = Grouped(report).ToList();
        var growth = Sections(report).SelectMany(section => Growth(section).Select(row => (Section: section, Row: row))).ToList();
        var width = labelled ? 1050 : 960;
        var left = labelled ? 420 : 330;
        const int barHeight = 22, gap = 8;
        var height = 70 + (scenarios.Count * (barHeight + gap)) + 60 + (growth.Count * (barHeight + gap)) + 20;
        var svg = new StringBuilder();
        svg.AppendLine(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"13\">");
        svg.AppendLine("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        var y = 25;
        Bars($"Throughput (requests/s), run {report["timestamp"]}", "#3b6ea8", scenarios.Select(scenario => (
            WebUtility.HtmlEncode(labelled ? $"{scenario["name"]} · {ShortLabel(report, scenario["setup"]?.ToString())}" : scenario["name"]!.ToString()),
            N(scenario, "rps"),
            string.Create(CultureInfo.InvariantCulture, $"{N(scenario, "rps"):0} (p99 {N(scenario, "p99_ms"):0.0} ms)"))));
        y += 30;
        Bars("POST /allocate p50 (ms) by existing allocations of the SKU", "#c4722f", growth.Select(item => (
            WebUtility.HtmlEncode(labelled ? $"{item.Row["existing_allocations"]} existing · {ShortLabel(report, Label(item.Section))}" : $"{item.Row["existing_allocations"]} existing"),
            N(item.Row, "p50_ms"),
            string.Create(CultureInfo.InvariantCulture, $"{N(item.Row, "p50_ms"):0.000} ms"))));

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

    private static bool IsLabelled(JsonObject report) => report["setups"] is JsonArray;

    /// <summary>Each setup's own figures (start-up, memory, events, growth): the report itself in a default run.</summary>
    private static List<JsonNode> Sections(JsonObject report) =>
        report["setups"] is JsonArray setups ? setups.Select(node => node!).ToList() : [report];

    private static string Label(JsonNode section) => section["label"]?.ToString() ?? "";

    // "PostgreSQL ×2" for "PostgreSQL, 2 instances behind nginx".
    private static string ShortLabel(JsonObject report, string? label) =>
        Sections(report).FirstOrDefault(section => Label(section) == label) is { } section
            ? $"{section["provider"]} ×{section["instances"]}"
            : label ?? "";

    /// <summary>Per instance: start-up and memory. A default run keeps the one instance's figures at the top of the report.</summary>
    private static List<JsonNode> Processes(JsonNode section) =>
        section["processes"] is JsonArray processes ? processes.Select(node => node!).ToList() : [section];

    // "656" for one instance, "702 / 688" for two.
    private static string Each(List<JsonNode> processes, string name) =>
        string.Join(" / ", processes.Select(process => process[name]?.ToString() ?? ""));

    private static IEnumerable<JsonNode> Scenarios(JsonObject report) => report["scenarios"]?.AsArray().Select(node => node!) ?? [];

    /// <summary>Scenarios in the order first run, each scenario's setups on rows next to each other.</summary>
    private static IEnumerable<JsonNode> Grouped(JsonObject report)
    {
        var rows = Scenarios(report).ToList();
        var order = rows.Select(row => row["name"]!.ToString()).Distinct().ToList();
        return rows.OrderBy(row => order.IndexOf(row["name"]!.ToString()));
    }

    private static IEnumerable<JsonNode> Growth(JsonNode section) => section["growth"]?.AsArray().Select(node => node!) ?? [];

    private static double N(JsonNode node, string name) => node[name]?.GetValue<double>() ?? double.NaN;

    private static string Ratio(JsonNode scenario) =>
        scenario["ratio_to_trivial"] is { } ratio ? ratio.GetValue<double>().ToString("0.00", CultureInfo.InvariantCulture) : "—";
}
