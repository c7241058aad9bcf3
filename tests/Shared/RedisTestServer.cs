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
    private Forwarder? _forwarder;

    private RedisTestServer(string? external, int port)
    {
        _external = external;
        Port = port;
    }

    public int Port { get; }

    /// <summary>What kind of server this is, for test output.</summary>
    public string Kind => _external is not null ? "REDIS_URL" : _garnet is null && RedisServerPath is not null ? "redis-server" : "garnet";

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

    /// <summary>An in-process Garnet whatever else is installed: a Redis-compatible server without streams.</summary>
    public static async Task<RedisTestServer> StartGarnetAsync()
    {
        var server = new RedisTestServer(null, FreePort());
        server._garnet = StartGarnet(server.Port);
        await WaitUntilAcceptingAsync(server.Port);
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

        if (_forwarder is { } forwarder)
        {
            await forwarder.DisposeAsync();
            _forwarder = null;
        }

        _garnet?.Dispose();
        _garnet = null;
    }

    /// <summary>Starts the server (again) on the same port and waits until it accepts connections.</summary>
    /// <param name="first">
    /// Connected before anyone else can reach the server: it is given a configuration string for a port of
    /// the server's own, and the server moves to <see cref="Port"/> only once it returns. A subscriber set up
    /// there hears everything that clients reconnecting by themselves publish, which otherwise depends on who
    /// reconnects first. Garnet cannot change its port, so there the port is forwarded to Garnet's own once
    /// it returns.
    /// </param>
    public async Task StartAgainAsync(Func<string, Task>? first = null)
    {
        if (_external is not null)
        {
            throw new InvalidOperationException("An external Redis (REDIS_URL) cannot be restarted by tests.");
        }

        if (RedisServerPath is { } path)
        {
            var port = first is null ? Port : FreePort();
            _process = Process.Start(new ProcessStartInfo(path, $"--port {port} --bind 127.0.0.1 --save \"\" --appendonly no --protected-mode no")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
            _process.OutputDataReceived += (_, _) => { };
            _process.ErrorDataReceived += (_, _) => { };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
            await WaitUntilAcceptingAsync(port);
            if (first is not null)
            {
                await first($"127.0.0.1:{port}");
                await MoveToPortAsync(port);
            }
        }
        else
        {
            var port = first is null ? Port : FreePort();
            _garnet = StartGarnet(port);
            await WaitUntilAcceptingAsync(port);
            if (first is not null)
            {
                await first($"127.0.0.1:{port}");
                _forwarder = new Forwarder(Port, port);
            }
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Whether something on 127.0.0.1 accepts a TCP connection on <paramref name="port"/>.</summary>
    public static async Task<bool> AcceptsAsync(int port)
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

    private static Garnet.GarnetServer StartGarnet(int port)
    {
        var garnet = new Garnet.GarnetServer(["--bind", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--memory", "16m", "--page", "1m", "--index", "1m", "--no-obj", "--logger-level", "Error"]);
        garnet.Start();
        return garnet;
    }

    private static async Task WaitUntilAcceptingAsync(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await AcceptsAsync(port))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"The test Redis on port {port} did not start.");
            }

            await Task.Delay(20);
        }
    }

    // Redis 7 can move its listening port at run time (CONFIG SET port); connections made meanwhile stay.
    private async Task MoveToPortAsync(int from)
    {
        await using (var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{from},allowAdmin=true"))
        {
            await admin.GetServers()[0].ConfigSetAsync("port", Port);
        }

        await WaitUntilAcceptingAsync(Port);
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

    /// <summary>Forwards connections from one loopback port to another, and drops them all when disposed.</summary>
    private sealed class Forwarder : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly int _target;
        private readonly List<TcpClient> _open = [];
        private readonly Task _accepting;

        public Forwarder(int port, int target)
        {
            _target = target;
            _listener = new TcpListener(IPAddress.Loopback, port);
            _listener.Start();
            _accepting = AcceptAsync();
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            lock (_open)
            {
                _open.ForEach(client => client.Dispose());
                _open.Clear();
            }

            await _accepting;
        }

        private async Task AcceptAsync()
        {
            while (true)
            {
                TcpClient inbound;
                try
                {
                    inbound = await _listener.AcceptTcpClientAsync();
                }
                catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
                {
                    return;
                }

                var outbound = new TcpClient();
                try
                {
                    await outbound.ConnectAsync(IPAddress.Loopback, _target);
                }
                catch (SocketException)
                {
                    inbound.Dispose();
                    outbound.Dispose();
                    continue;
                }

                lock (_open)
                {
                    _open.Add(inbound);
                    _open.Add(outbound);
                }

                _ = PumpAsync(inbound, outbound);
            }
        }

        private static async Task PumpAsync(TcpClient inbound, TcpClient outbound)
        {
            Task[] copies = [CopyAsync(inbound, outbound), CopyAsync(outbound, inbound)];
            await Task.WhenAny(copies);
            inbound.Dispose();
            outbound.Dispose();
            await Task.WhenAll(copies);
        }

        private static async Task CopyAsync(TcpClient from, TcpClient to)
        {
            try
            {
                await from.GetStream().CopyToAsync(to.GetStream());
            }
            catch (Exception exception) when (exception is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
            {
                // Either side went away; the pump closes the other.
            }
        }
    }
}
