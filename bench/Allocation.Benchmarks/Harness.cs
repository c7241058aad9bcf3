using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Allocation.Benchmarks;

internal enum Provider
{
    Sqlite,
    Postgres,
}

/// <summary>What the scenarios run against: a database and a number of service instances (behind nginx when more than one).</summary>
internal sealed record BenchSetup(Provider Provider, int Instances)
{
    public bool IsDefault => Provider == Provider.Sqlite && Instances == 1;

    public string Key => Provider == Provider.Sqlite ? "sqlite" : "postgres";

    public string ProviderName => Provider == Provider.Sqlite ? "SQLite" : "PostgreSQL";

    public string? LoadBalancer => Instances > 1 ? "nginx (round robin)" : null;

    /// <summary>"SQLite, 1 instance", "PostgreSQL, 2 instances behind nginx".</summary>
    public string Label => Instances == 1 ? $"{ProviderName}, 1 instance" : $"{ProviderName}, {Instances} instances behind nginx";

    /// <summary>"SQLite ×1", "PostgreSQL ×2": for chart labels and progress lines.</summary>
    public string Short => $"{ProviderName} ×{Instances}";
}

/// <param name="LogLevel">The service's log level; Warning unless asked, so that the figures are the service's own, not its log's.</param>
internal sealed record BenchOptions(int Duration, int Events, int Threads, HashSet<string>? Only, IReadOnlyList<BenchSetup> Setups, string LogLevel)
{
    private const string Usage =
        "Options: --duration <s> --events <n> --threads <n> --only trivial,allocate,add_batch,events,growth,transports --provider sqlite|postgres|both --instances <n> --log-level Warning|Information";

    public static BenchOptions Parse(string[] args)
    {
        var duration = 15;
        var events = 1000;
        var threads = 2;
        var provider = "sqlite";
        var instances = 1;
        var logLevel = "Warning";
        HashSet<string>? only = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--duration": duration = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--events": events = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--only": only = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.OrdinalIgnoreCase); break;
                case "--provider": provider = args[++i].ToLowerInvariant(); break;
                case "--instances": instances = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--log-level": logLevel = args[++i]; break;
                default: throw new ArgumentException($"Unknown option {args[i]}. {Usage}");
            }
        }

        if (instances < 1)
        {
            throw new ArgumentException($"--instances must be at least 1. {Usage}");
        }

        // both: SQLite as it is meant to run (one instance), then PostgreSQL with the instances asked for.
        IReadOnlyList<BenchSetup> setups = provider switch
        {
            "sqlite" => [new BenchSetup(Provider.Sqlite, instances)],
            "postgres" => [new BenchSetup(Provider.Postgres, instances)],
            "both" => [new BenchSetup(Provider.Sqlite, 1), new BenchSetup(Provider.Postgres, instances)],
            _ => throw new ArgumentException($"Unknown provider {provider}. {Usage}"),
        };
        return new BenchOptions(duration, events, threads, only, setups, logLevel);
    }

    public bool Includes(string scenario) => Only is null || Only.Contains(scenario);

    /// <summary>Rows and figures name their setup unless the run is the default one (SQLite, one instance), whose output stays as it was.</summary>
    public bool Labelled => Setups.Count > 1 || !Setups[0].IsDefault;
}

internal static class Repo
{
    public static string FindRoot()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Allocation.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Run the harness from inside the repository (Allocation.sln not found).");
    }
}

internal static class Tools
{
    public static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, name)).FirstOrDefault(File.Exists);

    public static string Run(string file, string arguments, string workingDirectory)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        using var teardown = Teardown.Register(() => process.Kill());
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {arguments} failed ({process.ExitCode}):\n{output.Result}\n{error.Result}");
        }

        return output.Result;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>REDIS_URL, else a throwaway redis-server, else the service's embedded broker (same discovery as the tests).</summary>
internal sealed class BenchRedis : IAsyncDisposable
{
    private Process? _process;
    private IDisposable? _teardown;

    public string ConnectionString { get; private init; } = "";

    public string Description { get; private init; } = "";

    public bool Embedded { get; private init; }

    public static async Task<BenchRedis> StartAsync()
    {
        var url = Environment.GetEnvironmentVariable("REDIS_URL");
        if (!string.IsNullOrWhiteSpace(url))
        {
            var uri = new Uri(url);
            return new BenchRedis { ConnectionString = $"{uri.Host}:{(uri.Port > 0 ? uri.Port : 6379)}", Description = $"REDIS_URL {uri.Host}:{uri.Port}" };
        }

        var port = Tools.FreePort();
        if (Tools.Find("redis-server") is { } server)
        {
            var process = Process.Start(new ProcessStartInfo(server, $"--port {port} --bind 127.0.0.1 --save \"\" --appendonly no")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var teardown = Teardown.Register(() => process.Kill());
            process.OutputDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            await WaitForPortAsync(port);
            var version = Tools.Run(server, "--version", Directory.GetCurrentDirectory()).Split(' ').FirstOrDefault(part => part.StartsWith("v=", StringComparison.Ordinal));
            return new BenchRedis { _process = process, _teardown = teardown, ConnectionString = $"127.0.0.1:{port}", Description = $"redis-server {version?[2..]} (port {port})" };
        }

        return new BenchRedis { ConnectionString = $"127.0.0.1:{port}", Description = "embedded Garnet in the service", Embedded = true };
    }

    public static async Task WaitForPortAsync(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            using var client = new TcpClient();
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(20);
            }
        }

        throw new InvalidOperationException($"Nothing listens on port {port}.");
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { } process)
        {
            process.Kill();
            await process.WaitForExitAsync();
            process.Dispose();
        }

        _teardown?.Dispose();
    }
}

/// <summary>
/// The service, built in Release, as a separate process on a fresh database. It can be killed (SIGKILL)
/// and started again on the same port, database and settings, its log going on in the same file.
/// </summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    private readonly ProcessStartInfo _start;
    private readonly StreamWriter _log;
    private readonly Action<string>? _onLine;
    private readonly IDisposable _teardown;
    private Process? _process;
    private bool _closed;

    private ServiceProcess(ProcessStartInfo start, Uri baseAddress, string logPath, Action<string>? onLine)
    {
        _start = start;
        BaseAddress = baseAddress;
        LogPath = logPath;
        _onLine = onLine;
        _log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        _teardown = Teardown.Register(() => Stop(_process));
    }

    public Uri BaseAddress { get; }

    public double StartupMs { get; private set; }

    public string LogPath { get; }

    public int Pid => _process!.Id;

    /// <summary>Whether the process ended (by itself, unless <see cref="KillAsync"/> ended it), and with which code.</summary>
    public int? ExitCode => _process is { HasExited: true } process ? process.ExitCode : null;

    /// <summary>Starts one instance; <paramref name="database"/> holds the settings that choose its database.</summary>
    /// <param name="settings">More environment settings, applied last (they may replace the Redis connection or the log levels).</param>
    /// <param name="onLine">Sees every line the service writes, as it writes it.</param>
    public static async Task<ServiceProcess> StartAsync(
        string repo,
        IReadOnlyDictionary<string, string> database,
        BenchRedis redis,
        string logPath,
        IReadOnlyDictionary<string, string>? settings = null,
        Action<string>? onLine = null)
    {
        var bin = Path.Combine(repo, "src", "Allocation.Web", "bin", "Release", "net10.0");
        var port = Tools.FreePort();
        var start = new ProcessStartInfo("dotnet", $"\"{Path.Combine(bin, "Allocation.Web.dll")}\"")
        {
            WorkingDirectory = bin,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        foreach (var (key, value) in database)
        {
            start.Environment[key] = value;
        }

        start.Environment["ConnectionStrings__Redis"] = redis.ConnectionString;
        start.Environment["Redis__Embedded"] = redis.Embedded ? "true" : "false";
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var service = new ServiceProcess(start, new Uri($"http://127.0.0.1:{port}"), logPath, onLine);
        try
        {
            await service.LaunchAsync();
            return service;
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGKILL: no shutdown, no drain; whatever was in flight is cut off.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    /// <summary>Starts the instance again (after <see cref="KillAsync"/>) on the same port, database and settings, and waits until it is ready.</summary>
    public async Task RestartAsync()
    {
        await KillAsync();
        await LaunchAsync();
    }

    private async Task LaunchAsync()
    {
        var clock = Stopwatch.StartNew();
        var previous = _process;
        var process = Process.Start(_start)!;
        _process = process;
        previous?.Dispose();
        process.OutputDataReceived += (_, line) => Write(line.Data);
        process.ErrorDataReceived += (_, line) => Write(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var probe = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(1) };
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (await IsReadyAsync(probe))
            {
                StartupMs = clock.Elapsed.TotalMilliseconds;
                return;
            }

            if (process.HasExited)
            {
                throw new InvalidOperationException($"The service exited with {process.ExitCode}; see {LogPath}.");
            }

            await Task.Delay(10);
        }

        Stop(process);
        throw new InvalidOperationException($"The service did not become ready; see {LogPath}.");
    }

    private void Write(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            if (_closed)
            {
                return;
            }

            _log.WriteLine(line);
        }

        _onLine?.Invoke(line);
    }

    /// <summary>True when <c>/health/ready</c> answers 200.</summary>
    public static async Task<bool> IsReadyAsync(HttpClient probe)
    {
        try
        {
            using var response = await probe.GetAsync("/health/ready");
            return response.IsSuccessStatusCode;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    public double RssMb()
    {
        foreach (var line in File.ReadLines($"/proc/{_process!.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
            }
        }

        return double.NaN;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _teardown.Dispose();
        _process?.Dispose();
        lock (_log)
        {
            _closed = true;
            _log.Dispose();
        }
    }

    private static void Stop(Process? process)
    {
        try
        {
            process?.Kill();
        }
        catch (InvalidOperationException)
        {
            // Already exited, or never started.
        }
    }
}

/// <summary>
/// The instances of one setup, started one after the other on the same database and Redis (the first
/// one alone brings up the embedded broker when there is no Redis), and stopped together.
/// </summary>
internal sealed class ServiceInstances : IAsyncDisposable
{
    private readonly List<ServiceProcess> _instances = [];

    public IReadOnlyList<ServiceProcess> All => _instances;

    /// <param name="settings">More environment settings for every instance (see <see cref="ServiceProcess.StartAsync"/>).</param>
    /// <param name="onLine">For instance i (from 1), what sees each line it writes.</param>
    public static async Task<ServiceInstances> StartAsync(
        string repo,
        IReadOnlyDictionary<string, string> database,
        BenchRedis redis,
        int count,
        Func<int, string> logPath,
        IReadOnlyDictionary<string, string>? settings = null,
        Func<int, Action<string>>? onLine = null)
    {
        var instances = new ServiceInstances();
        try
        {
            for (var i = 1; i <= count; i++)
            {
                instances._instances.Add(await ServiceProcess.StartAsync(repo, database, redis, logPath(i), settings, onLine?.Invoke(i)));
            }

            return instances;
        }
        catch
        {
            await instances.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until every instance answers <c>/health/ready</c> with 200 at the same time.</summary>
    public async Task WaitAllReadyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var probes = _instances.Select(instance => new HttpClient { BaseAddress = instance.BaseAddress, Timeout = TimeSpan.FromSeconds(1) }).ToList();
        try
        {
            while (true)
            {
                var ready = await Task.WhenAll(probes.Select(ServiceProcess.IsReadyAsync));
                if (ready.All(answer => answer))
                {
                    return;
                }

                if (DateTime.UtcNow > deadline)
                {
                    var late = _instances.Where((_, i) => !ready[i]).Select(instance => $"{instance.BaseAddress} (see {instance.LogPath})");
                    throw new InvalidOperationException($"Not every instance became ready: {string.Join(", ", late)}.");
                }

                await Task.Delay(50);
            }
        }
        finally
        {
            probes.ForEach(probe => probe.Dispose());
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var instance in _instances)
        {
            await instance.DisposeAsync();
        }
    }
}

/// <summary>Peak resident memory of each instance while load runs.</summary>
internal sealed class RssSampler : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly double[] _peaks;

    public RssSampler(IReadOnlyList<ServiceProcess> instances)
    {
        _peaks = new double[instances.Count];
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                for (var i = 0; i < instances.Count; i++)
                {
                    _peaks[i] = Math.Max(_peaks[i], instances[i].RssMb());
                }

                await Task.Delay(100);
            }
        });
    }

    public IReadOnlyList<double> PeaksMb => _peaks;

    public void Dispose()
    {
        _stop.Cancel();
        _loop.Wait();
        _stop.Dispose();
    }
}

/// <summary>
/// What must not outlive the harness (child processes, the PostgreSQL cluster and its folder), undone
/// by its owner when it is done and, when the harness is interrupted (SIGINT, SIGTERM), by the signal.
/// </summary>
internal static class Teardown
{
    private static readonly List<Action> Pending = [];
    private static readonly List<PosixSignalRegistration> Signals = [];

    public static void OnSignals()
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
        {
            Signals.Add(PosixSignalRegistration.Create(signal, _ => RunAll()));
        }
    }

    public static IDisposable Register(Action undo)
    {
        lock (Pending)
        {
            Pending.Add(undo);
        }

        return new Registration(undo);
    }

    // Newest first, as the owners would have undone them; each at most once.
    private static void RunAll()
    {
        while (true)
        {
            Action undo;
            lock (Pending)
            {
                if (Pending.Count == 0)
                {
                    return;
                }

                undo = Pending[^1];
                Pending.RemoveAt(Pending.Count - 1);
            }

            try
            {
                undo();
            }
            catch (Exception exception)
            {
                Console.Error.WriteLine($"Cleaning up after the interruption: {exception.Message}");
            }
        }
    }

    private sealed class Registration(Action undo) : IDisposable
    {
        public void Dispose()
        {
            lock (Pending)
            {
                Pending.Remove(undo);
            }
        }
    }
}

internal sealed record WrkResult(long Requests, double Seconds, long Non2xx, long Errors5xx, long SocketErrors, double P50Ms, double P90Ms, double P99Ms, double MaxMs)
{
    public double Rps => Requests / Seconds;

    public JsonObject ToJson(string name, int connections, double? trivialRps, string? setup = null)
    {
        var row = new JsonObject();
        if (setup is not null)
        {
            row["setup"] = setup;
        }

        row["name"] = name;
        row["connections"] = connections;
        row["requests"] = Requests;
        row["seconds"] = Math.Round(Seconds, 2);
        row["rps"] = Math.Round(Rps, 0);
        row["p50_ms"] = Math.Round(P50Ms, 3);
        row["p90_ms"] = Math.Round(P90Ms, 3);
        row["p99_ms"] = Math.Round(P99Ms, 3);
        row["max_ms"] = Math.Round(MaxMs, 3);
        row["non_2xx"] = Non2xx;
        row["errors_5xx"] = Errors5xx;
        row["socket_errors"] = SocketErrors;
        row["ratio_to_trivial"] = trivialRps is > 0 ? Math.Round(Rps / trivialRps.Value, 3) : null;
        return row;
    }

    public string Describe(string name) =>
        $"{name,-28} {Rps,9:0} req/s  p50 {P50Ms,7:0.00} ms  p99 {P99Ms,7:0.00} ms  max {MaxMs,8:0.00} ms  non-2xx {Non2xx}  5xx {Errors5xx}";
}

internal sealed class Wrk(Uri baseAddress, string script, int defaultThreads)
{
    public WrkResult Run(string mode, int connections, int seconds, string prefix, string[] skus, string path = "/", int? threads = null)
    {
        var t = Math.Min(threads ?? defaultThreads, connections);
        var output = Tools.Run(
            "wrk",
            $"-t{t} -c{connections} -d{seconds}s --timeout 10s -s \"{script}\" {new Uri(baseAddress, path)} -- {mode} {prefix} {string.Join(',', skus)}",
            Directory.GetCurrentDirectory());
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("WRKJSON ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"wrk printed no summary:\n{output}");
        var json = JsonDocument.Parse(line["WRKJSON ".Length..]).RootElement;
        double Ms(string name) => json.GetProperty(name).GetDouble() / 1000;
        return new WrkResult(
            json.GetProperty("requests").GetInt64(),
            json.GetProperty("duration_us").GetDouble() / 1_000_000,
            json.GetProperty("non2xx").GetInt64(),
            json.GetProperty("errors5xx").GetInt64(),
            json.GetProperty("socket_errors").GetInt64(),
            Ms("p50_us"),
            Ms("p90_us"),
            Ms("p99_us"),
            Ms("max_us"));
    }
}

internal static class Setup
{
    public static async Task AddBatchAsync(HttpClient http, string reference, string sku, int qty, string? eta = null)
    {
        var response = await http.PostAsJsonAsync("/add_batch", new Dictionary<string, object?> { ["ref"] = reference, ["sku"] = sku, ["qty"] = qty, ["eta"] = eta });
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"add_batch {reference} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>Gives the batch <paramref name="count"/> existing allocations, written straight into the SQLite file.</summary>
    public static void SeedAllocations(string databasePath, string reference, string sku, int count)
    {
        using var connection = new SqliteConnection($"Data Source={databasePath};Pooling=False");
        connection.Open();
        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA busy_timeout = 10000";
            pragma.ExecuteNonQuery();
        }

        using var transaction = connection.BeginTransaction();
        using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO allocations (orderid, sku, qty, batch_id) SELECT $order, $sku, 1, id FROM batches WHERE reference = $ref";
        var order = insert.Parameters.Add("$order", SqliteType.Text);
        insert.Parameters.AddWithValue("$sku", sku);
        insert.Parameters.AddWithValue("$ref", reference);
        for (var i = 0; i < count; i++)
        {
            order.Value = $"seed-{reference}-{i}";
            insert.ExecuteNonQuery();
        }

        using var update = connection.CreateCommand();
        update.CommandText = "UPDATE batches SET allocated_quantity = allocated_quantity + $count WHERE reference = $ref";
        update.Parameters.AddWithValue("$count", count);
        update.Parameters.AddWithValue("$ref", reference);
        update.ExecuteNonQuery();
        transaction.Commit();
    }

    /// <summary>Gives the batch <paramref name="count"/> existing allocations, written straight into the PostgreSQL database.</summary>
    public static async Task SeedAllocationsAsync(string connectionString, string reference, string sku, int count)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO allocations (orderid, sku, qty, batch_id) SELECT 'seed-' || b.reference || '-' || n, @sku, 1, b.id FROM batches b, generate_series(0, @count - 1) n WHERE b.reference = @ref",
            connection,
            transaction))
        {
            insert.Parameters.AddWithValue("sku", sku);
            insert.Parameters.AddWithValue("count", count);
            insert.Parameters.AddWithValue("ref", reference);
            await insert.ExecuteNonQueryAsync();
        }

        await using (var update = new NpgsqlCommand("UPDATE batches SET allocated_quantity = allocated_quantity + @count WHERE reference = @ref", connection, transaction))
        {
            update.Parameters.AddWithValue("count", count);
            update.Parameters.AddWithValue("ref", reference);
            await update.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }
}
