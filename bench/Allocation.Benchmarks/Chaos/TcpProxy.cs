using System.Net;
using System.Net.Sockets;

namespace Allocation.Benchmarks.Chaos;

/// <summary>
/// A TCP relay on a loopback port of its own to a loopback upstream (Redis, the SMTP server). Cut
/// resets every relayed connection and stops listening, so new connections are refused, as when the
/// upstream is unreachable; Restore listens again on the same port.
/// </summary>
internal sealed class TcpProxy : IAsyncDisposable
{
    private readonly int _upstreamPort;
    private readonly Lock _lock = new();
    private readonly HashSet<Relay> _relays = [];
    private readonly CancellationTokenSource _stopping = new();
    private TcpListener? _listener;
    private bool _disposed;

    public TcpProxy(int upstreamPort)
    {
        _upstreamPort = upstreamPort;
        Port = Tools.FreePort();
        Listen();
    }

    public int Port { get; }

    public bool IsCut { get; private set; }

    /// <summary>How many times it was cut, and how many live connections those cuts reset.</summary>
    public int Cuts { get; private set; }

    public int ConnectionsReset { get; private set; }

    public void Cut()
    {
        lock (_lock)
        {
            if (IsCut || _disposed)
            {
                return;
            }

            IsCut = true;
            Cuts++;
            _listener?.Stop();
            _listener = null;
            ConnectionsReset += _relays.Count;
            foreach (var relay in _relays)
            {
                relay.Reset();
            }

            _relays.Clear();
        }
    }

    public void Restore()
    {
        lock (_lock)
        {
            if (!IsCut || _disposed)
            {
                return;
            }

            IsCut = false;
            Listen();
        }
    }

    /// <summary>Cut for <paramref name="outage"/>, then back.</summary>
    public async Task CutForAsync(TimeSpan outage, CancellationToken cancellationToken)
    {
        Cut();
        try
        {
            await Task.Delay(outage, cancellationToken);
        }
        finally
        {
            Restore();
        }
    }

    private void Listen()
    {
        var listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start(512);
        _listener = listener;
        _ = AcceptAsync(listener);
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(_stopping.Token);
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
            {
                return;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        var upstream = new TcpClient();
        var relay = new Relay(client, upstream);
        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, _upstreamPort, _stopping.Token);
        }
        catch (Exception exception) when (exception is SocketException or OperationCanceledException)
        {
            relay.Reset();
            return;
        }

        lock (_lock)
        {
            if (IsCut || _disposed)
            {
                relay.Reset();
                return;
            }

            _relays.Add(relay);
        }

        client.NoDelay = true;
        upstream.NoDelay = true;
        await Task.WhenAny(PumpAsync(client, upstream), PumpAsync(upstream, client));
        lock (_lock)
        {
            _relays.Remove(relay);
        }

        relay.Reset();
    }

    private static async Task PumpAsync(TcpClient from, TcpClient to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            var source = from.GetStream();
            var target = to.GetStream();
            int read;
            while ((read = await source.ReadAsync(buffer)) > 0)
            {
                await target.WriteAsync(buffer.AsMemory(0, read));
            }
        }
        catch (Exception exception) when (exception is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            _disposed = true;
            _listener?.Stop();
            foreach (var relay in _relays)
            {
                relay.Reset();
            }

            _relays.Clear();
        }

        await _stopping.CancelAsync();
        _stopping.Dispose();
    }

    private sealed class Relay(TcpClient client, TcpClient upstream)
    {
        /// <summary>Closes both sides with a reset (linger 0), as a broken network would, not a polite FIN.</summary>
        public void Reset()
        {
            foreach (var side in new[] { client, upstream })
            {
                try
                {
                    side.Client.LingerState = new LingerOption(true, 0);
                }
                catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
                {
                }

                side.Dispose();
            }
        }
    }
}
