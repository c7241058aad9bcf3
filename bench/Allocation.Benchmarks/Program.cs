using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Allocation.Benchmarks;

// Benchmark harness: starts the service in Release against a fresh database (SQLite, PostgreSQL or both,
// one after the other) and a real Redis, with one or more instances (behind nginx when more than one),
// drives it with wrk, and writes bench/results/<timestamp>.{json,md,svg}. Usage:
//   dotnet run -c Release --project bench/Allocation.Benchmarks [-- --duration 15 --events 1000 --only allocate,events]
//   dotnet run -c Release --project bench/Allocation.Benchmarks -- --provider both --instances 2 --only trivial,allocate
//   dotnet run -c Release --project bench/Allocation.Benchmarks -- --only transports   (pub/sub and streams side by side)
//   dotnet run -c Release --project bench/Allocation.Benchmarks -- chaos [--quick] [--provider sqlite|postgres|both]
if (args is ["chaos", .. var chaos])
{
    // Fault injection: bench/Allocation.Benchmarks/Chaos.
    return await Allocation.Benchmarks.Chaos.ChaosRun.RunAsync(chaos);
}

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

string? nginx = null;
if (options.Setups.Any(setup => setup.Instances > 1) && (nginx = LoadBalancer.Find()) is null)
{
    Console.Error.WriteLine("nginx is not installed; more than one instance needs it as the load balancer. Install it with: apt-get install -y nginx-light (Debian/Ubuntu).");
    return 2;
}

if (options.Setups.Any(setup => setup.Provider == Provider.Postgres) && BenchPostgres.Unavailable() is { } reason)
{
    Console.Error.WriteLine($"PostgreSQL is not available: {reason}. Set POSTGRES_URL to an Npgsql connection string, or install the server with: apt-get install -y postgresql (Debian/Ubuntu).");
    return 2;
}

Console.WriteLine("Building the service (Release)...");
Tools.Run("dotnet", $"build \"{Path.Combine(repo, "src", "Allocation.Web")}\" -c Release -v q -nologo", repo);

await using var redis = await BenchRedis.StartAsync();
Console.WriteLine($"Redis: {redis.Description}");
var work = Path.Combine(Path.GetTempPath(), $"allocation-bench-{stamp}");
Directory.CreateDirectory(work);

var machine = new JsonObject
{
    ["cores"] = Environment.ProcessorCount,
    ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
    ["dotnet"] = Environment.Version.ToString(),
    ["redis"] = redis.Description,
};
var report = new JsonObject { ["timestamp"] = stamp, ["machine"] = machine, ["log_level"] = options.LogLevel };
var setups = new JsonArray();
var scenarios = new JsonArray();
if (options.Labelled)
{
    report["setups"] = setups;
    report["scenarios"] = scenarios;
}

foreach (var setup in options.Setups)
{
    // The default run keeps its figures at the top of the report, as before; a labelled one gives each setup its own section.
    var section = report;
    if (options.Labelled)
    {
        section = new JsonObject
        {
            ["label"] = setup.Label,
            ["provider"] = setup.ProviderName,
            ["instances"] = setup.Instances,
            ["load_balancer"] = setup.LoadBalancer,
        };
        setups.Add(section);
        Console.WriteLine();
        Console.WriteLine($"== {setup.Label}");
    }

    // Progress lines name the setup in a labelled run: "[PostgreSQL ×2] allocate 1 SKU c=16 ...".
    string Tag(string text) => options.Labelled ? string.Join('\n', text.Split('\n').Select(line => $"[{setup.Short}] {line}")) : text;
    // bench/results/<stamp>-service.log, or -service-<i>.log per instance; with both providers, -sqlite-service.log and -postgres-service-<i>.log.
    string ServiceLog(int i) => Path.Combine(
        resultsDir, $"{stamp}{(options.Setups.Count > 1 ? $"-{setup.Key}" : "")}-service{(setup.Instances > 1 ? $"-{i}" : "")}.log");

    // The database: a fresh SQLite file, or a fresh PostgreSQL database.
    await using var postgres = setup.Provider == Provider.Postgres ? await BenchPostgres.StartAsync(stamp, Path.Combine(resultsDir, $"{stamp}-postgresql.log")) : null;
    var sqliteFile = Path.Combine(work, "bench.db");
    var database = postgres is null
        ? new Dictionary<string, string> { ["ConnectionStrings__Allocation"] = $"Data Source={sqliteFile}" }
        : new Dictionary<string, string> { ["Database__Provider"] = "Postgres", ["ConnectionStrings__Allocation"] = postgres.ConnectionString };
    var durability = postgres is null ? "synchronous=FULL, group commit" : $"{postgres.Durability}, group commit";
    if (options.Labelled)
    {
        section["database"] = postgres?.Description ?? "SQLite file";
        section["durability"] = durability;
        Console.WriteLine($"Database: {section["database"]} ({durability})");
    }
    else
    {
        machine["durability"] = durability;
    }

    await using var services = await ServiceInstances.StartAsync(
        repo, database, redis, setup.Instances, ServiceLog, new Dictionary<string, string> { ["Serilog__MinimumLevel__Default"] = options.LogLevel });
    foreach (var instance in services.All)
    {
        Console.WriteLine(Tag($"Service ready in {instance.StartupMs:0} ms (pid {instance.Pid}); idle RSS {instance.RssMb():0.0} MB"));
    }

    await using var balancer = setup.Instances > 1
        ? await LoadBalancer.StartAsync(nginx!, Path.Combine(work, $"nginx-{setup.Key}"), services.All.Select(instance => instance.BaseAddress), Path.Combine(resultsDir, $"{stamp}-nginx.log"))
        : null;
    if (balancer is not null)
    {
        Console.WriteLine(Tag($"nginx on {balancer.BaseAddress}, round robin over {setup.Instances} instances"));
    }

    var target = balancer?.BaseAddress ?? services.All[0].BaseAddress;
    if (!options.Labelled)
    {
        section["startup_ms"] = Math.Round(services.All[0].StartupMs, 1);
        section["scenarios"] = scenarios;
    }

    using var http = new HttpClient { BaseAddress = target };
    var wrk = new Wrk(target, Path.Combine(AppContext.BaseDirectory, "load.lua"), options.Threads);
    long measuredRequests = 0;
    void Add(WrkResult result, string name, int connections, double? trivial, string progress)
    {
        measuredRequests += result.Requests;
        scenarios.Add(result.ToJson(name, connections, trivial, options.Labelled ? setup.Label : null));
        Console.WriteLine(result.Describe(Tag(progress)));
    }

    // Warm the JIT and the connection pools (of every instance, through the load balancer) before measuring anything.
    await services.WaitAllReadyAsync();
    await Setup.AddBatchAsync(http, $"warm-{stamp}", $"WARM-{stamp}", 10_000_000);
    wrk.Run("allocate", 16, 3, $"warm{stamp}", [$"WARM-{stamp}"]);
    wrk.Run("get", 16, 2, "warm", [], "/health/live");
    var idle = services.All.Select(instance => Math.Round(instance.RssMb(), 1)).ToList();
    if (!options.Labelled)
    {
        section["rss_idle_mb"] = idle[0];
    }

    await services.WaitAllReadyAsync();
    long LogBytes() => services.All.Sum(instance => new FileInfo(instance.LogPath).Length);
    var logBefore = LogBytes();
    double? trivialRps = null;
    if (options.Includes("trivial"))
    {
        var trivial = wrk.Run("get", 64, options.Duration, "live", [], "/health/live");
        trivialRps = trivial.Rps;
        Add(trivial, "GET /health/live (trivial route)", 64, null, "GET /health/live c=64");
    }

    IReadOnlyList<double> peaks;
    using (var sampler = new RssSampler(services.All))
    {
        if (options.Includes("allocate"))
        {
            var sku = $"ONE-{stamp}";
            await Setup.AddBatchAsync(http, $"one-{stamp}", sku, 100_000_000);
            foreach (var connections in new[] { 16, 64 })
            {
                var result = wrk.Run("allocate", connections, options.Duration, $"a{connections}x{stamp}", [sku]);
                Add(result, $"POST /allocate, one SKU, c={connections}", connections, trivialRps, $"allocate 1 SKU c={connections}");
            }

            var skus = Enumerable.Range(0, 64).Select(i => $"MANY-{i}-{stamp}").ToArray();
            foreach (var (many, i) in skus.Select((many, i) => (many, i)))
            {
                await Setup.AddBatchAsync(http, $"many-{i}-{stamp}", many, 10_000_000);
            }

            foreach (var connections in new[] { 64, 400 })
            {
                var spread = wrk.Run("allocate", connections, options.Duration, $"m{connections}x{stamp}", skus);
                Add(spread, $"POST /allocate, 64 SKUs, c={connections}", connections, trivialRps, $"allocate 64 SKUs c={connections}");
            }
        }

        if (options.Includes("add_batch"))
        {
            var result = wrk.Run("add_batch", 64, options.Duration, $"b{stamp}", []);
            Add(result, "POST /add_batch, new SKU each, c=64", 64, trivialRps, "add_batch c=64");
        }

        peaks = sampler.PeaksMb;
    }

    if (measuredRequests > 0)
    {
        // What the log costs: bytes written per request measured, at the run's log level.
        var perRequest = (double)(LogBytes() - logBefore) / measuredRequests;
        section["log_bytes_per_request"] = Math.Round(perRequest, 1);
        Console.WriteLine(Tag($"log: {perRequest:0.0} bytes per request at {options.LogLevel}"));
    }

    if (options.Labelled)
    {
        var processes = new JsonArray();
        foreach (var (instance, i) in services.All.Select((instance, i) => (instance, i)))
        {
            processes.Add(new JsonObject
            {
                ["url"] = instance.BaseAddress.ToString(),
                ["startup_ms"] = Math.Round(instance.StartupMs, 1),
                ["rss_idle_mb"] = idle[i],
                ["rss_load_mb"] = peaks[i] > 0 ? Math.Round(peaks[i], 1) : null,
                ["log"] = Path.GetRelativePath(repo, instance.LogPath),
            });
        }

        section["processes"] = processes;
    }
    else if (peaks[0] > 0)
    {
        section["rss_load_mb"] = Math.Round(peaks[0], 1);
    }

    if (options.Includes("events"))
    {
        var events = await EventLatency.MeasureAsync(http, redis.ConnectionString, options.Events, stamp);
        section["events"] = events.ToJson();
        Console.WriteLine(Tag(events.Describe()));
    }

    if (options.Includes("growth"))
    {
        var growth = new JsonArray();
        section["growth"] = growth;
        foreach (var existing in new[] { 10, 20_000, 100_000 })
        {
            var sku = $"GROW-{existing}-{stamp}";
            var reference = $"grow-{existing}-{stamp}";
            await Setup.AddBatchAsync(http, reference, sku, 10_000_000);
            if (postgres is null)
            {
                Setup.SeedAllocations(sqliteFile, reference, sku, existing);
            }
            else
            {
                await Setup.SeedAllocationsAsync(postgres.ConnectionString, reference, sku, existing);
            }

            var result = wrk.Run("allocate", 1, Math.Max(3, options.Duration / 3), $"g{existing}x{stamp}", [sku], threads: 1);
            growth.Add(new JsonObject
            {
                ["existing_allocations"] = existing,
                ["requests"] = result.Requests,
                ["p50_ms"] = Math.Round(result.P50Ms, 3),
                ["p99_ms"] = Math.Round(result.P99Ms, 3),
            });
            Console.WriteLine(Tag($"allocate with {existing,7} existing allocations: p50 {result.P50Ms:0.000} ms, p99 {result.P99Ms:0.000} ms (c=1, {result.Requests} requests)"));
        }

        var first = growth[0]!["p50_ms"]!.GetValue<double>();
        var last = growth[^1]!["p50_ms"]!.GetValue<double>();
        section["growth_ratio_100k_to_10"] = Math.Round(last / first, 3);
        Console.WriteLine(Tag($"p50 at 100,000 / p50 at 10 = {last / first:0.00}"));
    }
}

if (options.Includes("transports"))
{
    if (redis.Embedded)
    {
        Console.WriteLine("transports: skipped, streams need redis-server (apt-get install -y redis-server) or REDIS_URL.");
    }
    else
    {
        // A service per transport, each on a fresh SQLite file of its own.
        Console.WriteLine();
        Console.WriteLine("== pub/sub and streams, a service with Messaging:Transport=PubSub and one with Streams (SQLite)");
        Task<ServiceProcess> StartWith(string transport) => ServiceProcess.StartAsync(
            repo,
            new Dictionary<string, string> { ["ConnectionStrings__Allocation"] = $"Data Source={Path.Combine(work, $"transports-{transport}.db")}" },
            redis,
            Path.Combine(resultsDir, $"{stamp}-transports-{transport.ToLowerInvariant()}-service.log"),
            new Dictionary<string, string>(TransportComparison.Settings(transport)) { ["Serilog__MinimumLevel__Default"] = options.LogLevel });
        await using var pubSub = await StartWith("PubSub");
        await using var streams = await StartWith("Streams");

        // Warmed by load, as the main service is by its load scenarios, before anything is measured.
        foreach (var service in new[] { pubSub, streams })
        {
            using var warmHttp = new HttpClient { BaseAddress = service.BaseAddress };
            await Setup.AddBatchAsync(warmHttp, $"warm-{stamp}", $"WARM-{stamp}", 10_000_000);
            new Wrk(service.BaseAddress, Path.Combine(AppContext.BaseDirectory, "load.lua"), options.Threads).Run("allocate", 64, options.Duration, $"warm{stamp}", [$"WARM-{stamp}"]);
        }

        var transports = await TransportComparison.MeasureAsync(pubSub, streams, redis.ConnectionString, options.Events / 2, 100, stamp);
        report["transports"] = transports.ToJson();
        Console.WriteLine(transports.Describe());
    }
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
