using System.Diagnostics;
using Npgsql;

namespace Allocation.Testing;

/// <summary>
/// A real PostgreSQL for tests: <c>POSTGRES_URL</c> (an Npgsql connection string or a postgres:// URL) when
/// set, else a throwaway cluster started from the local PostgreSQL binaries (initdb into a temporary
/// folder, as the <c>postgres</c> user when running as root), else none, with the reason, so that the
/// tests needing it are reported as skipped. Each test gets a database of its own. <c>SKIP_POSTGRES=1</c>
/// skips them even when a server could be had (mutation runs, where every PostgreSQL test would multiply the time).
/// </summary>
public sealed class PostgresTestServer : IAsyncDisposable
{
    private static readonly Lazy<Task<(PostgresTestServer? Server, string? Reason)>> Shared = new(StartSharedAsync);

    private readonly string _adminConnectionString;
    private readonly string? _folder;
    private readonly string? _binaries;

    private PostgresTestServer(string adminConnectionString, string? folder, string? binaries, int port)
    {
        _adminConnectionString = adminConnectionString;
        _folder = folder;
        _binaries = binaries;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The server every test of the process shares, started on first use and stopped when the process ends.</summary>
    public static async Task<PostgresTestServer> SharedAsync()
    {
        IgnoreWhenSkipped();
        var (server, reason) = await Shared.Value;
        if (server is null)
        {
            NUnit.Framework.Assert.Ignore($"PostgreSQL is not available: {reason}");
        }

        return server!;
    }

    /// <summary>A server of the test's own, which it may stop and start again; null (the test is skipped) without binaries.</summary>
    public static async Task<PostgresTestServer> StartOwnAsync()
    {
        IgnoreWhenSkipped();
        var binaries = FindBinaries();
        if (binaries is null)
        {
            NUnit.Framework.Assert.Ignore("PostgreSQL binaries (initdb, pg_ctl) are not installed.");
        }

        return await StartClusterAsync(binaries!);
    }

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"t_{Guid.NewGuid():N}";
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = name }.ConnectionString;
    }

    public async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Stops the server at once, as a crash would (only a cluster this class started).</summary>
    public Task StopAsync() => PgCtlAsync("-m immediate -w stop");

    public Task StartAgainAsync() => PgCtlAsync($"-w -l \"{_folder}/server.log\" -o \"{ServerOptions(Port, _folder!)}\" start");

    public async ValueTask DisposeAsync()
    {
        if (_folder is null)
        {
            return;
        }

        try
        {
            await StopAsync();
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }

        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void IgnoreWhenSkipped()
    {
        if (Environment.GetEnvironmentVariable("SKIP_POSTGRES") is "1" or "true")
        {
            NUnit.Framework.Assert.Ignore("PostgreSQL tests are skipped: SKIP_POSTGRES is set.");
        }
    }

    private static async Task<(PostgresTestServer?, string?)> StartSharedAsync()
    {
        var url = Environment.GetEnvironmentVariable("POSTGRES_URL");
        if (!string.IsNullOrWhiteSpace(url))
        {
            return (new PostgresTestServer(ToConnectionString(url), null, null, 0), null);
        }

        var binaries = FindBinaries();
        if (binaries is null)
        {
            return (null, "neither POSTGRES_URL is set nor are PostgreSQL's binaries (initdb, pg_ctl) installed");
        }

        try
        {
            var server = await StartClusterAsync(binaries);
            AppDomain.CurrentDomain.ProcessExit += (_, _) => server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return (server, null);
        }
        catch (InvalidOperationException exception)
        {
            return (null, exception.Message);
        }
    }

    private static async Task<PostgresTestServer> StartClusterAsync(string binaries)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"allocation-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        if (IsRoot)
        {
            // PostgreSQL refuses to run as root: the cluster belongs to the postgres user.
            await RunAsync("chown", $"postgres \"{folder}\"");
        }

        var port = RedisTestServer.FreePort();
        var server = new PostgresTestServer($"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=false", folder, binaries, port);
        await server.RunAsPostgresAsync(Path.Combine(binaries, "initdb"), $"-D \"{folder}/data\" --auth=trust --username=postgres --encoding=UTF8 --locale=C.UTF-8 --no-sync");
        await server.StartAgainAsync();
        return server;
    }

    // Commits reach the operating system before they are acknowledged, so a killed server loses nothing;
    // skipping the fsyncs to the disk itself (which only a crash of the machine would need) keeps the suite fast.
    private static string ServerOptions(int port, string folder) =>
        $"-p {port} -c listen_addresses=127.0.0.1 -k {folder} -c fsync=off -c full_page_writes=off -c max_connections=200";

    private Task PgCtlAsync(string arguments)
    {
        if (_folder is null || _binaries is null)
        {
            throw new InvalidOperationException("An external PostgreSQL (POSTGRES_URL) cannot be stopped or started by tests.");
        }

        return RunAsPostgresAsync(Path.Combine(_binaries, "pg_ctl"), $"-D \"{_folder}/data\" {arguments}");
    }

    private Task RunAsPostgresAsync(string program, string arguments) =>
        IsRoot ? RunAsync("runuser", $"-u postgres -- \"{program}\" {arguments}") : RunAsync(program, arguments);

    private static async Task RunAsync(string program, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(program)} {arguments} failed ({process.ExitCode}): {await errors}{await output}");
        }
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

    // postgres://user:password@host:port/database → Npgsql's key=value form.
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
