using System.Buffers;
using System.Net;
using Allocation.Testing;
using MimeKit;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Allocation.E2ETests.Support;

/// <summary>A real SMTP server in-process on 127.0.0.1, keeping every message it accepts.</summary>
public sealed class SmtpTestServer : IAsyncDisposable
{
    private readonly Inbox _inbox = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly SmtpServer.SmtpServer _server;
    private readonly Task _running;

    private SmtpTestServer(int port)
    {
        Port = port;
        var options = new SmtpServerOptionsBuilder()
            .ServerName("localhost")
            .Endpoint(endpoint => endpoint.Endpoint(new IPEndPoint(IPAddress.Loopback, port)))
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(_inbox);
        _server = new SmtpServer.SmtpServer(options, services);
        _running = _server.StartAsync(_stopping.Token);
    }

    public int Port { get; }

    public IReadOnlyList<MimeMessage> Messages => _inbox.Messages;

    /// <param name="port">A port chosen beforehand, e.g. one the service was already told about; else a free one.</param>
    public static async Task<SmtpTestServer> StartAsync(int? port = null)
    {
        var server = new SmtpTestServer(port ?? RedisTestServer.FreePort());
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await RedisTestServer.AcceptsAsync(server.Port))
        {
            if (server._running.IsFaulted || DateTime.UtcNow > deadline)
            {
                await server.DisposeAsync();
                throw new InvalidOperationException($"The test SMTP server on port {server.Port} did not start.", server._running.Exception);
            }

            await Task.Delay(20);
        }

        return server;
    }

    /// <summary>The messages received once there are at least <paramref name="count"/>.</summary>
    public async Task<IReadOnlyList<MimeMessage>> WaitForMessagesAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Messages.Count < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited {timeout.TotalSeconds:0} s for {count} e-mail(s); {Messages.Count} arrived.");
            }

            await Task.Delay(20);
        }

        return Messages;
    }

    public async ValueTask DisposeAsync()
    {
        _server.Shutdown();
        await _stopping.CancelAsync();
        try
        {
            await _running;
        }
        catch (OperationCanceledException)
        {
        }

        _stopping.Dispose();
    }

    private sealed class Inbox : MessageStore
    {
        private readonly List<MimeMessage> _messages = [];

        public IReadOnlyList<MimeMessage> Messages
        {
            get
            {
                lock (_messages)
                {
                    return [.. _messages];
                }
            }
        }

        public override async Task<SmtpResponse> SaveAsync(
            ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            using var stream = new MemoryStream(buffer.ToArray());
            var message = await MimeMessage.LoadAsync(stream, cancellationToken);
            lock (_messages)
            {
                _messages.Add(message);
            }

            return SmtpResponse.Ok;
        }
    }
}
