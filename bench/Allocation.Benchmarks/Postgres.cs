using System.Diagnostics;
using Npgsql;

namespace Allocation.Benchmarks;

/// <summary>
/// PostgreSQL for a run: <c>POSTGRES_URL</c> (an Npgsql connection string, or a postgres:// URL) when set,
/// else a throwaway cluster from the local binaries (initdb into a folder under /tmp, run as the
/// <c>postgres</c> user when the harness runs as root). Either way the service gets a fresh database
/// <c>bench_&lt;stamp&gt;</c>, dropped at the end. The cluster keeps PostgreSQL's default durability (fsync
/// and synchronous_commit on), so a 201 means the same as on SQLite with synchronous=FULL: on disk.
/// </summary>
internal sealed class BenchPostgres : IAsyncDisposable
{
    private readonly string _adminConnectionString;
    private readonly string? _folder;
    private readonly string? _binaries;
    private readonly string? _serverLogCopy;
    private readonly int _port;
    private readonly Lock _stopping = new();
    private bool _stopped;
    private IDisposable? _teardown;

    private BenchPostgres(string adminConnectionString, string? folder, string? binaries, string? serverLogCopy, int port = 0)
    {
        _port = port;
        _adminConnectionString = adminConnectionString;
        _folder = folder;
        _binaries = binaries;
        _serverLogCopy = serverLogCopy;
    }

    /// <summary>The service's connection string, to the run's own database.</summary>
    public string ConnectionString { get; private set; } = "";

    /// <summary>"PostgreSQL 15.14, throwaway cluster (port 41234)" or "PostgreSQL 16.2, POSTGRES_URL db:5432".</summary>
    public string Description { get; private set; } = "";

    /// <summary>The server's own settings, read back from it: "fsync=on, synchronous_commit=on".</summary>
    public string Durability { get; private set; } = "";

    /// <summary>Null when PostgreSQL can be had, else why not.</summary>
    public static string? Unavailable()
    {
        if (!string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("POSTGRES_URL")))
        {
            return null;
        }

        if (FindBinaries() is null)
        {
            return "POSTGRES_URL is not set and PostgreSQL's server binaries (initdb, pg_ctl) are neither on the PATH nor in /usr/lib/postgresql/*/bin";
        }

        return IsRoot && !File.ReadLines("/etc/passwd").Any(line => line.StartsWith("postgres:", StringComparison.Ordinal))
            ? "the harness runs as root, which PostgreSQL refuses, and there is no postgres user to run the cluster as"
            : null;
    }

    /// <param name="stamp">Names the database (and the cluster's folder).</param>
    /// <param name="serverLogCopy">Where the throwaway cluster's server log is copied before its folder is deleted.</param>
    public static async Task<BenchPostgres> StartAsync(string stamp, string serverLogCopy)
    {
        BenchPostgres server;
        var url = Environment.GetEnvironmentVariable("POSTGRES_URL");
        if (!string.IsNullOrWhiteSpace(url))
        {
            var admin = new NpgsqlConnectionStringBuilder(ToConnectionString(url)) { Pooling = false };
            server = new BenchPostgres(admin.ConnectionString, null, null, null) { Description = $"POSTGRES_URL {admin.Host}:{admin.Port}" };
        }
        else
        {
            server = await StartClusterAsync(stamp, serverLogCopy);
        }

        try
        {
            var name = $"bench_{stamp}";
            await using var connection = new NpgsqlConnection(server._adminConnectionString);
            await connection.OpenAsync();
            await ExecuteAsync(connection, $"CREATE DATABASE \"{name}\"");
            var version = await ScalarAsync(connection, "SHOW server_version");
            var fsync = await ScalarAsync(connection, "SHOW fsync");
            var synchronousCommit = await ScalarAsync(connection, "SHOW synchronous_commit");
            server.Description = $"PostgreSQL {version.Split(' ')[0]}, {server.Description}";
            server.Durability = $"fsync={fsync}, synchronous_commit={synchronousCommit}";
            var service = new NpgsqlConnectionStringBuilder(server._adminConnectionString) { Database = name };
            service.Remove("Pooling");
            server.ConnectionString = service.ConnectionString;
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_folder is null)
        {
            // Someone else's server: leave it as it was found.
            if (ConnectionString.Length > 0)
            {
                NpgsqlConnection.ClearAllPools();
                await using var connection = new NpgsqlConnection(_adminConnectionString);
                await connection.OpenAsync();
                await ExecuteAsync(connection, $"DROP DATABASE IF EXISTS \"{new NpgsqlConnectionStringBuilder(ConnectionString).Database}\" WITH (FORCE)");
            }

            return;
        }

        StopCluster();
        _teardown?.Dispose();
    }

    /// <summary>Whether <see cref="StopServer"/> and <see cref="StartServer"/> can be used: only on the harness's own throwaway cluster.</summary>
    public bool CanRestart => _folder is not null && !_stopped;

    /// <summary>
    /// <c>pg_ctl -m fast stop</c> of the throwaway cluster: every connection is cut and the server shuts
    /// down cleanly; until <see cref="StartServer"/>, connections are refused.
    /// </summary>
    public void StopServer()
    {
        if (!CanRestart)
        {
            throw new InvalidOperationException("Only the harness's own cluster can be stopped.");
        }

        RunAsPostgres("pg_ctl", ["-D", $"{_folder}/data", "-m", "fast", "-w", "stop"]);
    }

    /// <summary><c>pg_ctl start</c> of the throwaway cluster, on its port with its options, waiting until it takes connections.</summary>
    public void StartServer()
    {
        if (!CanRestart)
        {
            throw new InvalidOperationException("Only the harness's own cluster can be started.");
        }

        RunAsPostgres("pg_ctl", [
            "-D", $"{_folder}/data", "-l", $"{_folder}/server.log", "-w",
            "-o", $"-p {_port} -c listen_addresses=127.0.0.1 -k {_folder} -c max_connections=200",
            "start",
        ]);
    }

    private static async Task<BenchPostgres> StartClusterAsync(string stamp, string serverLogCopy)
    {
        var binaries = FindBinaries() ?? throw new InvalidOperationException("PostgreSQL's binaries (initdb, pg_ctl) are not installed.");
        var folder = Path.Combine("/tmp", $"allocation-bench-pg-{stamp}");
        Directory.CreateDirectory(folder);
        var port = Tools.FreePort();
        var server = new BenchPostgres($"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=false", folder, binaries, serverLogCopy, port)
        {
            Description = $"throwaway cluster (port {port})",
        };
        server._teardown = Teardown.Register(server.StopCluster);
        try
        {
            if (IsRoot)
            {
                // PostgreSQL refuses to run as root: the cluster belongs to the postgres user.
                Run("chown", ["postgres", folder]);
            }

            server.RunAsPostgres("initdb", ["-D", $"{folder}/data", "--auth=trust", "--username=postgres", "--encoding=UTF8", "--locale=C.UTF-8"]);
            server.StartServer();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    // Synchronous, so that the signal handler can run it too, maybe while the harness unwinds: the first
    // caller stops and deletes, a second one waits for that and does nothing.
    private void StopCluster()
    {
        lock (_stopping)
        {
            if (_folder is null || _stopped)
            {
                return;
            }

            _stopped = true;
            try
            {
                if (File.Exists(Path.Combine(_folder, "data", "postmaster.pid")))
                {
                    RunAsPostgres("pg_ctl", ["-D", $"{_folder}/data", "-m", "fast", "-w", "stop"]);
                }
            }
            catch (InvalidOperationException exception)
            {
                Console.Error.WriteLine(exception.Message);
            }
            finally
            {
                var log = Path.Combine(_folder, "server.log");
                if (_serverLogCopy is not null && File.Exists(log))
                {
                    File.Copy(log, _serverLogCopy, overwrite: true);
                }

                Directory.Delete(_folder, recursive: true);
            }
        }
    }

    private void RunAsPostgres(string program, IReadOnlyList<string> arguments)
    {
        var path = Path.Combine(_binaries!, program);
        if (IsRoot)
        {
            Run("runuser", ["-u", "postgres", "--", path, .. arguments]);
        }
        else
        {
            Run(path, arguments);
        }
    }

    private static void Run(string program, IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/tmp" };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}):\n{output.Result}\n{error.Result}");
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<string> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static bool IsRoot => Environment.UserName == "root";

    private static string? FindBinaries()
    {
        var candidates = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(Directory.Exists("/usr/lib/postgresql")
                ? Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(version => Path.Combine(version, "bin"))
                : []);
        return candidates.FirstOrDefault(folder => File.Exists(Path.Combine(folder, "initdb")) && File.Exists(Path.Combine(folder, "pg_ctl")));
    }

    // postgres://user:password@host:port/database → Npgsql's key=value form; anything else is taken as that form.
    private static string ToConnectionString(string url)
    {
        if (!url.StartsWith("postgres", StringComparison.OrdinalIgnoreCase) || !url.Contains("://", StringComparison.Ordinal))
        {
            return url;
        }

        var uri = new Uri(url);
        var user = uri.UserInfo.Split(':');
        return new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.Port > 0 ? uri.Port : 5432,
            Username = Uri.UnescapeDataString(user[0]),
            Password = user.Length > 1 ? Uri.UnescapeDataString(user[1]) : null,
            Database = uri.AbsolutePath.Trim('/') is { Length: > 0 } database ? database : "postgres",
        }.ConnectionString;
    }
}
