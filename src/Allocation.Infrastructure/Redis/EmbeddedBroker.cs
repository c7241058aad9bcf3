using System.Net;
using System.Net.Sockets;
using Garnet;

namespace Allocation.Infrastructure.Redis;

/// <summary>
/// An in-process RESP server (Microsoft Garnet) for running the service with nothing installed. Bound
/// to 127.0.0.1 only, with small memory settings; it holds pub/sub traffic, not data worth keeping.
/// </summary>
internal sealed class EmbeddedBroker : IDisposable
{
    private readonly GarnetServer _server;

    private EmbeddedBroker(int port)
    {
        Port = port;
        _server = new GarnetServer(
        [
            "--bind", "127.0.0.1",
            "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--memory", "16m",
            "--page", "1m",
            "--index", "1m",
            "--no-obj",
            "--logger-level", "Warning",
        ]);
        _server.Start();
    }

    public int Port { get; }

    public static EmbeddedBroker Start(int port) => new(port);

    /// <summary>Whether something accepts TCP connections at the endpoint within the timeout.</summary>
    public static async Task<bool> AnswersAsync(EndPoint endpoint, TimeSpan timeout)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await socket.ConnectAsync(endpoint, cancellation.Token);
            return true;
        }
        catch (Exception exception) when (exception is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    public static bool IsLoopback(EndPoint endpoint) => endpoint switch
    {
        IPEndPoint ip => IPAddress.IsLoopback(ip.Address),
        DnsEndPoint dns => dns.Host is "localhost" or "127.0.0.1" or "::1",
        _ => false,
    };

    public void Dispose() => _server.Dispose();
}
