using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Allocation.Benchmarks;
using Microsoft.Data.Sqlite;
using StackExchange.Redis;

// Benchmark harness: starts the service in Release against a fresh SQLite file and a real Redis, drives
// it with wrk, and writes bench/results/<timestamp>.{json,md,svg}. Usage:
//   dotnet run -c Release --project bench/Allocation.Benchmarks [-- --duration 15 --events 1000 --only allocate,events]
var options = BenchOptions.Parse(args);
var repo = Repo.FindRoot();
var stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
var resultsDir = Path.Combine(repo, "bench", "results");
Directory.CreateDirectory(resultsDir);
Teardown.OnSignals();

if (Tools.Find("wrk") is null)
{
    Console.Error.WriteLine("wrk is not installed. Install it with: apt-get install -y wrk (Debian/Ubuntu) or brew install wrk (macOS).");
    return 2;
}

Console.WriteLine("Building the service (Release)...");
Tools.Run("dotnet", $"build \"{Path.Combine(repo, "src", "Allocation.Web")}\" -c Release -v q -nologo", repo);

await using var redis = await BenchRedis.StartAsync();
Console.WriteLine($"Redis: {redis.Description}");
var work = Path.Combine(Path.GetTempPath(), $"allocation-bench-{stamp}");
Directory.CreateDirectory(work);
var logPath = Path.Combine(resultsDir, $"{stamp}-service.log");
await using var service = await ServiceProcess.StartAsync(repo, work, redis, logPath);
Console.WriteLine($"Service ready in {service.StartupMs:0} ms (pid {service.Pid}); idle RSS {service.RssMb():0.0} MB");

var report = new JsonObject
{
    ["timestamp"] = stamp,
    ["machine"] = new JsonObject
    {
        ["cores"] = Environment.ProcessorCount,
        ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
        ["dotnet"] = Environment.Version.ToString(),
        ["redis"] = redis.Description,
        ["durability"] = "synchronous=FULL, group commit",
    },
    ["startup_ms"] = Math.Round(service.StartupMs, 1),
};

using var http = new HttpClient { BaseAddress = service.BaseAddress };
var wrk = new Wrk(service.BaseAddress, Path.Combine(AppContext.BaseDirectory, "load.lua"), options.Threads);
var scenarios = new JsonArray();
report["scenarios"] = scenarios;

// Warm the JIT and the connection pools before measuring anything.
await Setup.AddBatchAsync(http, $"warm-{stamp}", $"WARM-{stamp}", 10_000_000);
wrk.Run("allocate", 16, 3, $"warm{stamp}", [$"WARM-{stamp}"]);
wrk.Run("get", 16, 2, "warm", [], "/health/live");
report["rss_idle_mb"] = Math.Round(service.RssMb(), 1);

double trivialRps = 0;
if (options.Includes("trivial"))
{
    var trivial = wrk.Run("get", 64, options.Duration, "live", [], "/health/live");
    trivialRps = trivial.Rps;
    scenarios.Add(trivial.ToJson("GET /health/live (trivial route)", 64, null));
    Console.WriteLine(trivial.Describe("GET /health/live c=64"));
}

double peakRss = 0;
using (var sampler = new RssSampler(service))
{
    if (options.Includes("allocate"))
    {
        var sku = $"ONE-{stamp}";
        await Setup.AddBatchAsync(http, $"one-{stamp}", sku, 100_000_000);
        foreach (var connections in new[] { 16, 64 })
        {
            var result = wrk.Run("allocate", connections, options.Duration, $"a{connections}x{stamp}", [sku]);
            scenarios.Add(result.ToJson($"POST /allocate, one SKU, c={connections}", connections, trivialRps));
            Console.WriteLine(result.Describe($"allocate 1 SKU c={connections}"));
        }

        var skus = Enumerable.Range(0, 64).Select(i => $"MANY-{i}-{stamp}").ToArray();
        foreach (var (many, i) in skus.Select((many, i) => (many, i)))
        {
            await Setup.AddBatchAsync(http, $"many-{i}-{stamp}", many, 10_000_000);
        }

        foreach (var connections in new[] { 64, 400 })
        {
            var spread = wrk.Run("allocate", connections, options.Duration, $"m{connections}x{stamp}", skus);
            scenarios.Add(spread.ToJson($"POST /allocate, 64 SKUs, c={connections}", connections, trivialRps));
            Console.WriteLine(spread.Describe($"allocate 64 SKUs c={connections}"));
        }
    }

    if (options.Includes("add_batch"))
    {
        var result = wrk.Run("add_batch", 64, options.Duration, $"b{stamp}", []);
        scenarios.Add(result.ToJson("POST /add_batch, new SKU each, c=64", 64, trivialRps));
        Console.WriteLine(result.Describe("add_batch c=64"));
    }

    peakRss = sampler.PeakMb;
}

if (peakRss > 0)
{
    report["rss_load_mb"] = Math.Round(peakRss, 1);
}

if (options.Includes("events"))
{
    var events = await EventLatency.MeasureAsync(http, redis.ConnectionString, options.Events, stamp);
    report["events"] = events.ToJson();
    Console.WriteLine(events.Describe());
}

if (options.Includes("growth"))
{
    var growth = new JsonArray();
    report["growth"] = growth;
    foreach (var existing in new[] { 10, 20_000, 100_000 })
    {
        var sku = $"GROW-{existing}-{stamp}";
        await Setup.AddBatchAsync(http, $"grow-{existing}-{stamp}", sku, 10_000_000);
        Setup.SeedAllocations(Path.Combine(work, "bench.db"), $"grow-{existing}-{stamp}", sku, existing);
        var result = wrk.Run("allocate", 1, Math.Max(3, options.Duration / 3), $"g{existing}x{stamp}", [sku], threads: 1);
        growth.Add(new JsonObject
        {
            ["existing_allocations"] = existing,
            ["requests"] = result.Requests,
            ["p50_ms"] = Math.Round(result.P50Ms, 3),
            ["p99_ms"] = Math.Round(result.P99Ms, 3),
        });
        Console.WriteLine($"allocate with {existing,7} existing allocations: p50 {result.P50Ms:0.000} ms, p99 {result.P99Ms:0.000} ms (c=1, {result.Requests} requests)");
    }

    var first = growth[0]!["p50_ms"]!.GetValue<double>();
    var last = growth[^1]!["p50_ms"]!.GetValue<double>();
    report["growth_ratio_100k_to_10"] = Math.Round(last / first, 3);
    Console.WriteLine($"p50 at 100,000 / p50 at 10 = {last / first:0.00}");
}

var jsonPath = Path.Combine(resultsDir, $"{stamp}.json");
await File.WriteAllTextAsync(jsonPath, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
var svgPath = Path.Combine(resultsDir, $"{stamp}.svg");
await File.WriteAllTextAsync(svgPath, Report.Chart(report));
var mdPath = Path.Combine(resultsDir, $"{stamp}.md");
await File.WriteAllTextAsync(mdPath, Report.Markdown(report, Path.GetFileName(svgPath)));
Console.WriteLine();
Console.WriteLine(Report.Table(report));
Console.WriteLine($"Results: {jsonPath}");
Console.WriteLine($"Report:  {mdPath}");
return 0;
