using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Allocation.Testing;

/// <summary>
/// A real Redis for tests: <c>REDIS_URL</c> when set (and the test need not stop it), else a throwaway
/// <c>redis-server</c> on a free port when one is on PATH, else an in-process Garnet server, so the
/// suite runs on a machine with only the .NET SDK.
/// </summary>
public sealed class RedisTestServer : IAsyncDisposable
{
    private readonly string? _external;
    private Process? _process;
    private Garnet.GarnetServer? _garnet;

    private RedisTestServer(string? external, int port)
    {
        _external = external;
        Port = port;
    }

    public int Port { get; }

    /// <summary>What kind of server this is, for test output.</summary>
    public string Kind => _external is not null ? "REDIS_URL" : RedisServerPath is not null ? "redis-server" : "garnet";

    public string ConnectionString => _external ?? $"127.0.0.1:{Port}";

    public static string? RedisServerPath { get; } = FindOnPath("redis-server");

    /// <param name="stoppable">The test stops and restarts the server, so it must be one of ours.</param>
    public static async Task<RedisTestServer> StartAsync(bool stoppable = false)
    {
        var url = Environment.GetEnvironmentVariable("REDIS_URL");
        if (!stoppable && !string.IsNullOrWhiteSpace(url))
        {
            return new RedisTestServer(ToConfiguration(url), 0);
        }

        var server = new RedisTestServer(null, FreePort());
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>Stops the server abruptly; clients see their connections drop.</summary>
    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            process.Dispose();
            _process = null;
        }

        _garnet?.Dispose();
        _garnet = null;
    }

    /// <summary>Starts the server (again) on the same port and waits until it accepts connections.</summary>
    public async Task StartAgainAsync()
    {
        if (_external is not null)
        {
            throw new InvalidOperationException("An external Redis (REDIS_URL) cannot be restarted by tests.");
        }

        if (RedisServerPath is { } path)
        {
            _process = Process.Start(new ProcessStartInfo(path, $"--port {Port} --bind 127.0.0.1 --save \"\" --appendonly no --protected-mode no")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
            _process.OutputDataReceived += (_, _) => { };
            _process.ErrorDataReceived += (_, _) => { };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }
        else
        {
            _garnet = new Garnet.GarnetServer(["--bind", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--memory", "16m", "--page", "1m", "--index", "1m", "--no-obj", "--logger-level", "Error"]);
            _garnet.Start();
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await AcceptsAsync(Port))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"The test Redis on port {Port} did not start.");
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    // redis://[:password@]host:port → host:port[,password=…], the StackExchange.Redis form.
    private static string ToConfiguration(string url)
    {
        if (!url.StartsWith("redis://", StringComparison.OrdinalIgnoreCase))
        {
            return url;
        }

        var uri = new Uri(url);
        var configuration = $"{uri.Host}:{(uri.Port > 0 ? uri.Port : 6379)}";
        var password = uri.UserInfo.Split(':').LastOrDefault();
        return string.IsNullOrEmpty(password) ? configuration : $"{configuration},password={Uri.UnescapeDataString(password)}";
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, name))
            .FirstOrDefault(File.Exists);
}
