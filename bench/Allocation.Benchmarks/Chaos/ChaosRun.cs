using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Allocation.Benchmarks.Chaos;

/// <summary>One row of the table: a scenario of one setup, what it did and what its checks found.</summary>
internal sealed record ScenarioResult(
    string Setup, string Fault, int Injected, double Seconds, int Operations, int Acknowledged, Verdict Verdict, IReadOnlyList<string> FaultLog)
{
    public JsonObject ToJson() => new()
    {
        ["setup"] = Setup,
        ["fault"] = Fault,
        ["injected"] = Injected,
        ["seconds"] = Math.Round(Seconds, 1),
        ["operations"] = Operations,
        ["acknowledged"] = Acknowledged,
        ["lost"] = Verdict.Lost,
        ["duplicates"] = Verdict.Duplicates,
        ["undelivered"] = Verdict.Undelivered,
        ["violations"] = Verdict.Violations.Count,
        ["counts"] = new JsonObject(Verdict.Counts.Select(pair => KeyValuePair.Create(pair.Key, (JsonNode?)pair.Value))),
        ["fault_log"] = new JsonArray([.. FaultLog.Select(line => (JsonNode?)line)]),
        ["violation_details"] = new JsonArray([.. Verdict.Violations.Take(50).Select(line => (JsonNode?)line)]),
    };
}

/// <summary>
/// The fault-injection harness: the service as real processes (SQLite, one instance; PostgreSQL, two on
/// one throwaway cluster), a real Redis behind a proxy that can cut it off, a real SMTP server that can
/// refuse or be down; load and one fault per scenario; then the history checked against the tables and
/// what downstream heard. Writes bench/results/&lt;stamp&gt;-chaos.json and bench/last-run/chaos.json and exits
/// non-zero on any violation.
/// </summary>
internal static class ChaosRun
{
    private const int MaxAttempts = 3;

    /// <summary>
    /// The service's settings for the run: a short retry budget and backoff, so that refusals become dead
    /// letters within a scenario; stream entries a killed instance left pending claimed after a few seconds.
    /// </summary>
    private static Dictionary<string, string> Settings(TcpProxy redis, SmtpSink smtp, IReadOnlySet<Via> transports) => new()
    {
        ["ConnectionStrings__Redis"] = $"127.0.0.1:{redis.Port}",
        ["Messaging__Transport"] = RedisMessaging.Setting(transports),
        ["Messaging__ClaimIdleTime"] = "00:00:03",
        ["Smtp__Host"] = "127.0.0.1",
        ["Smtp__Port"] = smtp.Port.ToString(CultureInfo.InvariantCulture),
        ["Smtp__Security"] = "None",
        ["Smtp__TimeoutSeconds"] = "5",
        ["Notifications__StockAddress"] = "stock@chaos.test",
        ["Outbox__PollIntervalMs"] = "200",
        ["Outbox__MaxRetryDelayMs"] = "1000",
        ["Outbox__MaxAttempts"] = MaxAttempts.ToString(CultureInfo.InvariantCulture),
        ["Serilog__MinimumLevel__Override__Allocation.Infrastructure.Persistence.LeaderElection"] = "Information",
    };

    public static async Task<int> RunAsync(string[] args)
    {
        ChaosOptions options;
        try
        {
            options = ChaosOptions.Parse(args);
        }
        catch (ArgumentException exception)
        {
            Console.Error.WriteLine(exception.Message);
            return 2;
        }

        var repo = Repo.FindRoot();
        var stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var resultsDir = Path.Combine(repo, "bench", "results");
        Directory.CreateDirectory(resultsDir);
        Teardown.OnSignals();
        var clock = Stopwatch.StartNew();

        var setups = new List<(Provider Provider, int Instances)>();
        if (options.Provider is "sqlite" or "both")
        {
            setups.Add((Provider.Sqlite, 1));
        }

        if (options.Provider is "postgres" or "both")
        {
            if (BenchPostgres.Unavailable() is { } reason)
            {
                if (options.Provider == "postgres")
                {
                    Console.Error.WriteLine($"PostgreSQL is not available: {reason}. Install it with: apt-get install -y postgresql, or set POSTGRES_URL.");
                    return 2;
                }

                Console.WriteLine($"PostgreSQL is not available ({reason}); its scenarios are skipped.");
            }
            else
            {
                setups.Add((Provider.Postgres, 2));
            }
        }

        Console.WriteLine("Building the service (Release)...");
        Tools.Run("dotnet", $"build \"{Path.Combine(repo, "src", "Allocation.Web")}\" -c Release -v q -nologo", repo);

        await using var redis = await BenchRedis.StartAsync();
        if (redis.Embedded)
        {
            Console.Error.WriteLine("The fault-injection run needs a real Redis: install redis-server (apt-get install -y redis-server) or set REDIS_URL.");
            return 2;
        }

        await using var smtp = await SmtpSink.StartAsync();
        await using var messaging = await RedisMessaging.StartAsync(redis.ConnectionString, options.Transports);
        var work = Path.Combine(Path.GetTempPath(), $"allocation-chaos-{stamp}");
        Directory.CreateDirectory(work);
        void RemoveWork()
        {
            if (Directory.Exists(work))
            {
                Directory.Delete(work, recursive: true);
            }
        }

        using var removeWork = Teardown.Register(RemoveWork);
        try
        {
            return await RunSetupsAsync(options, repo, stamp, resultsDir, work, setups, redis, smtp, messaging, clock);
        }
        finally
        {
            RemoveWork();
        }
    }

    private static async Task<int> RunSetupsAsync(
        ChaosOptions options,
        string repo,
        string stamp,
        string resultsDir,
        string work,
        List<(Provider Provider, int Instances)> setups,
        BenchRedis redis,
        SmtpSink smtp,
        RedisMessaging messaging,
        Stopwatch clock)
    {
        Console.WriteLine($"Redis: {redis.Description}; transport {RedisMessaging.Describe(options.Transports)}; SMTP server on port {smtp.Port}; seed {options.Seed}; {(options.Quick ? "quick" : "full")} run");

        var results = new List<ScenarioResult>();
        var timing = options.Timing;
        foreach (var (provider, count) in setups)
        {
            var label = provider == Provider.Sqlite ? "SQLite ×1" : $"PostgreSQL ×{count}";
            var key = provider == Provider.Sqlite ? "sqlite" : "postgres";
            Console.WriteLine();
            Console.WriteLine($"== {label}");
            await using var postgres = provider == Provider.Postgres
                ? await BenchPostgres.StartAsync($"chaos_{stamp}", Path.Combine(resultsDir, $"{stamp}-chaos-postgresql.log"))
                : null;
            var sqliteFile = Path.Combine(work, "chaos.db");
            var database = postgres is null
                ? new Dictionary<string, string> { ["ConnectionStrings__Allocation"] = $"Data Source={sqliteFile}" }
                : new Dictionary<string, string> { ["Database__Provider"] = "Postgres", ["ConnectionStrings__Allocation"] = postgres.ConnectionString };
            var tables = postgres is null ? TableReader.Sqlite(sqliteFile) : TableReader.Postgres(postgres.ConnectionString);

            await using var redisProxy = new TcpProxy(int.Parse(redis.ConnectionString.Split(':')[^1], CultureInfo.InvariantCulture));
            var leads = new bool[count];
            Action<string> Watch(int i) => line =>
            {
                if (line.Contains("This instance leads", StringComparison.Ordinal) || line.Contains("lost the lead", StringComparison.Ordinal))
                {
                    lock (leads)
                    {
                        leads[i - 1] = line.Contains("This instance leads", StringComparison.Ordinal);
                    }
                }
            };
            await using var services = await ServiceInstances.StartAsync(
                repo, database, redis, count, i => Path.Combine(resultsDir, $"{stamp}-chaos-{key}-service{(count > 1 ? $"-{i}" : "")}.log"), Settings(redisProxy, smtp, options.Transports), Watch);
            await services.WaitAllReadyAsync();
            Console.WriteLine($"{count} instance(s) ready on {string.Join(", ", services.All.Select(instance => instance.BaseAddress))}{(postgres is null ? "" : $"; {postgres.Description}")}");
            var rig = new Rig(services, redisProxy, smtp, postgres, leads);
            using var client = new ServiceClient(services.All);

            var number = 0;
            foreach (var fault in Fault.For(rig).Where(fault => options.Includes(fault.Key)))
            {
                var seed = options.Seed + (results.Count * 7919);
                results.Add(await RunScenarioAsync(label, $"c{stamp[9..]}-{key[0]}{number++}-{fault.Key}", fault, rig, client, tables, messaging, timing, seed));
                var row = results[^1];
                Console.WriteLine($"  -> {row.Operations} operations, {row.Acknowledged} acknowledged, lost {row.Verdict.Lost}, duplicates {row.Verdict.Duplicates}, undelivered {row.Verdict.Undelivered}, violations {row.Verdict.Violations.Count} ({row.Seconds:0} s)");
            }
        }

        var report = Report(options, stamp, redis.Description, results, clock.Elapsed);
        var json = report.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        var jsonPath = Path.Combine(resultsDir, $"{stamp}-chaos.json");
        await File.WriteAllTextAsync(jsonPath, json);
        var lastRun = Path.Combine(repo, "bench", "last-run");
        Directory.CreateDirectory(lastRun);
        await File.WriteAllTextAsync(Path.Combine(lastRun, "chaos.json"), json);

        Console.WriteLine();
        Console.WriteLine(Table(results));
        var violations = results.SelectMany(row => row.Verdict.Violations.Select(violation => $"[{row.Setup}, {row.Fault}] {violation}")).ToList();
        if (violations.Count > 0)
        {
            Console.WriteLine($"{violations.Count} violation(s); the first {Math.Min(20, violations.Count)}:");
            foreach (var violation in violations.Take(20))
            {
                Console.WriteLine($"- {violation}");
            }
        }
        else
        {
            Console.WriteLine("No violation.");
        }

        Console.WriteLine($"Results: {jsonPath} (and bench/last-run/chaos.json); {clock.Elapsed.TotalMinutes:0.0} minutes");
        return violations.Count > 0 ? 1 : 0;
    }

    private static async Task<ScenarioResult> RunScenarioAsync(
        string setup, string prefix, Fault fault, Rig rig, ServiceClient client, TableReader tables, RedisMessaging messaging, ChaosTiming timing, int seed)
    {
        Console.WriteLine($"  {fault.Name} ({prefix})");
        var clock = Stopwatch.StartNew();
        var history = new History();
        var plan = new ScenarioPlan(prefix, timing, messaging.Transports, new Random(seed));
        var load = new Load(plan, client, messaging, history, timing, seed);
        await load.AddBatchesAsync(CancellationToken.None);

        var injected = 0;
        var extra = new List<string>();
        using (var until = new CancellationTokenSource(timing.Load))
        {
            using var faultStop = new CancellationTokenSource(timing.Load + TimeSpan.FromSeconds(60));
            var loadTask = load.RunAsync(until.Token);
            try
            {
                injected = fault.InjectAsync is null ? 0 : await fault.InjectAsync(rig, history, timing, faultStop.Token);
            }
            catch (Exception exception) when (exception is InvalidOperationException or OperationCanceledException)
            {
                extra.Add($"fault injection failed: {exception.Message}");
            }
            finally
            {
                rig.Heal();
            }

            await loadTask;
        }

        history.Fault("load stopped; waiting for every instance to be ready and the outbox to drain");

        // An instance that ended by itself is a violation; it is started again so that the run goes on.
        foreach (var (instance, i) in rig.Services.All.Select((instance, i) => (instance, i + 1)))
        {
            if (instance.ExitCode is { } code)
            {
                extra.Add($"instance #{i} exited by itself (code {code}); see {instance.LogPath}");
                history.Fault($"instance #{i} had exited (code {code}); starting it again");
                try
                {
                    await instance.RestartAsync();
                }
                catch (InvalidOperationException exception)
                {
                    extra.Add($"instance #{i} could not be started again: {exception.Message}");
                }
            }
        }
        try
        {
            await rig.Services.WaitAllReadyAsync();
        }
        catch (InvalidOperationException exception)
        {
            extra.Add($"not ready after the scenario: {exception.Message}");
        }

        var streams = messaging.Transports.Contains(Via.Stream);
        var drained = await DrainAsync(tables, streams ? messaging : null, timing.Drain);
        if (!drained)
        {
            extra.Add($"outbox not drained{(streams ? " or inbound stream not settled" : "")} after {timing.Drain.TotalSeconds:0} s");
        }

        var snapshot = await tables.ReadAsync();
        await AwaitDownstreamAsync(plan, snapshot, messaging);
        snapshot = await tables.ReadAsync();
        var inbound = streams ? await messaging.InboundStateAsync() : null;
        history.Fault(inbound is null ? "checking" : $"checking; inbound {inbound}");
        var verdict = await Checks.RunAsync(
            plan, history.Operations, snapshot, messaging.Snapshot(), rig.Smtp.Snapshot(), client, inbound, new CheckSettings(MaxAttempts, fault.IsBaseline, messaging.Transports), seed);
        foreach (var problem in extra)
        {
            verdict.Violation("scenario", problem);
        }

        var operations = history.Operations;
        return new ScenarioResult(
            setup, fault.Name, injected, clock.Elapsed.TotalSeconds, operations.Count, operations.Count(operation => operation.Acknowledged), verdict, history.FaultLog);
    }

    /// <summary>
    /// Until no entry waits in the outbox, twice in a row (an inbound message applied late may add one), and
    /// every inbound stream entry was delivered and acknowledged (a killed instance's pending ones are claimed late).
    /// </summary>
    private static async Task<bool> DrainAsync(TableReader tables, RedisMessaging? streams, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var empty = 0;
        await Task.Delay(500);
        while (clock.Elapsed < timeout)
        {
            try
            {
                var settled = streams is null || (await streams.InboundStateAsync()).Settled;
                empty = settled && await tables.PendingAsync() == 0 ? empty + 1 : 0;
            }
            catch (Exception exception) when (exception is System.Data.Common.DbException or StackExchange.Redis.RedisException)
            {
                empty = 0;
            }

            if (empty >= 2)
            {
                return true;
            }

            await Task.Delay(300);
        }

        return false;
    }

    /// <summary>
    /// Pub/sub delivers, and the harness reads the streams, after the outbox marked an entry sent: waits (a few
    /// seconds at most) until every dispatched downstream event was heard on every transport.
    /// </summary>
    private static async Task AwaitDownstreamAsync(ScenarioPlan plan, Tables snapshot, RedisMessaging messaging)
    {
        var expected = snapshot.Outbox.Where(row => plan.Owns(row.Sku) && row.Type is "Allocated" or "LineCancelled" && row.DispatchedAt is not null)
            .SelectMany(row => messaging.Transports.Select(via => (via, row.MessageId))).ToHashSet();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            expected.ExceptWith(messaging.Snapshot().Select(message => (message.Via, message.MessageId ?? "")));
            if (expected.Count == 0)
            {
                return;
            }

            await Task.Delay(100);
        }
    }

    private static JsonObject Report(ChaosOptions options, string stamp, string redis, List<ScenarioResult> results, TimeSpan elapsed) => new()
    {
        ["timestamp"] = stamp,
        ["run"] = options.Quick ? "quick" : "full",
        ["seed"] = options.Seed,
        ["minutes"] = Math.Round(elapsed.TotalMinutes, 1),
        ["machine"] = new JsonObject
        {
            ["cores"] = Environment.ProcessorCount,
            ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
            ["dotnet"] = Environment.Version.ToString(),
            ["redis"] = redis,
        },
        ["transport"] = RedisMessaging.Describe(options.Transports),
        ["service_settings"] = new JsonObject
        {
            ["Messaging:Transport"] = RedisMessaging.Setting(options.Transports),
            ["Messaging:ClaimIdleTime"] = "00:00:03",
            ["Outbox:MaxAttempts"] = MaxAttempts,
            ["Outbox:MaxRetryDelayMs"] = 1000,
            ["Outbox:PollIntervalMs"] = 200,
        },
        ["load_seconds_per_scenario"] = options.Timing.Load.TotalSeconds,
        ["passed"] = results.All(row => row.Verdict.Violations.Count == 0),
        ["scenarios"] = new JsonArray([.. results.Select(row => (JsonNode?)row.ToJson())]),
    };

    /// <summary>The table, as Markdown (it reads as well in a terminal).</summary>
    public static string Table(IReadOnlyList<ScenarioResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine("| setup | fault | injected | operations | acknowledged | lost | duplicates | undelivered | violations |");
        text.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var row in results)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {row.Setup} | {row.Fault} | {row.Injected} | {row.Operations:N0} | {row.Acknowledged:N0} | {row.Verdict.Lost} | {row.Verdict.Duplicates} | {row.Verdict.Undelivered} | {row.Verdict.Violations.Count} |");
        }

        return text.ToString();
    }
}
