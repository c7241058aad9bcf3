using System.Buffers;
using System.Net;
using MimeKit;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Allocation.Benchmarks.Chaos;

internal enum SmtpMode
{
    /// <summary>250: every message is taken.</summary>
    Accept,

    /// <summary>451 for every message: try again later, an outage that must not spend the retry budget.</summary>
    TryLater,

    /// <summary>554 for the messages <see cref="SmtpSink.IsRefusable"/> picks (a third of them), 250 for the others.</summary>
    RefuseSome,
}

/// <summary>
/// A real SMTP server in the harness (the SmtpServer package), behind a <see cref="TcpProxy"/> so that it
/// can also be down (connections reset and refused). Every message it sees is recorded by its Message-Id,
/// which the service sets to the event's message id: what was taken, and how often it was refused.
/// </summary>
internal sealed class SmtpSink : IAsyncDisposable
{
    private readonly Recorder _recorder;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SmtpServer.SmtpServer _server;
    private readonly Task _running;
    private readonly TcpProxy _proxy;

    private SmtpSink(int port)
    {
        _recorder = new Recorder(this);
        var options = new SmtpServerOptionsBuilder()
            .ServerName("chaos-smtp")
            .Endpoint(endpoint => endpoint.Endpoint(new IPEndPoint(IPAddress.Loopback, port)))
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(_recorder);
        _server = new SmtpServer.SmtpServer(options, services);
        _running = _server.StartAsync(_stopping.Token);
        _proxy = new TcpProxy(port);
    }

    /// <summary>Where the service sends its mail: the proxy in front of the server.</summary>
    public int Port => _proxy.Port;

    public SmtpMode Mode { get; set; } = SmtpMode.Accept;

    public bool IsDown => _proxy.IsCut;

    public static async Task<SmtpSink> StartAsync()
    {
        var port = Tools.FreePort();
        var sink = new SmtpSink(port);
        try
        {
            await BenchRedis.WaitForPortAsync(port);
            return sink;
        }
        catch
        {
            await sink.DisposeAsync();
            throw;
        }
    }

    /// <summary>Connections reset, new ones refused, until <see cref="Up"/>.</summary>
    public void Down() => _proxy.Cut();

    public void Up() => _proxy.Restore();

    /// <summary>A fixed third of the message ids, so that a refused message is refused on every retry while the mode lasts.</summary>
    public static bool IsRefusable(string messageId) => (uint)StableHash(messageId) % 3 == 0;

    /// <summary>A copy of what was recorded so far, keyed by message id.</summary>
    public IReadOnlyDictionary<string, MailRecord> Snapshot() => _recorder.Snapshot();

    public async ValueTask DisposeAsync()
    {
        await _proxy.DisposeAsync();
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

    private static int StableHash(string text)
    {
        var hash = 17;
        foreach (var c in text)
        {
            hash = unchecked((hash * 31) + c);
        }

        return hash;
    }

    private sealed class Recorder(SmtpSink sink) : MessageStore
    {
        private readonly Dictionary<string, MailRecord> _records = new(StringComparer.Ordinal);

        public IReadOnlyDictionary<string, MailRecord> Snapshot()
        {
            lock (_records)
            {
                return _records.ToDictionary(pair => pair.Key, pair => pair.Value with { }, StringComparer.Ordinal);
            }
        }

        public override async Task<SmtpResponse> SaveAsync(
            ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            using var stream = new MemoryStream(buffer.ToArray());
            var message = await MimeMessage.LoadAsync(stream, cancellationToken);

            // The service writes "<message id>@allocation".
            var id = message.MessageId ?? "";
            var at = id.LastIndexOf('@');
            var messageId = at > 0 ? id[..at] : id;
            var mode = sink.Mode;
            var refused = mode == SmtpMode.TryLater || (mode == SmtpMode.RefuseSome && IsRefusable(messageId));
            lock (_records)
            {
                var record = _records.TryGetValue(messageId, out var known) ? known : new MailRecord(messageId, message.Subject ?? "", 0, 0, 0);
                _records[messageId] = mode switch
                {
                    SmtpMode.TryLater => record with { TriedLater = record.TriedLater + 1 },
                    _ when refused => record with { Refused = record.Refused + 1 },
                    _ => record with { Accepted = record.Accepted + 1 },
                };
            }

            return mode switch
            {
                SmtpMode.TryLater => new SmtpResponse((SmtpReplyCode)451, "4.3.0 Try again later (chaos)"),
                _ when refused => new SmtpResponse((SmtpReplyCode)554, "5.7.1 Refused (chaos)"),
                _ => SmtpResponse.Ok,
            };
        }
    }
}

/// <summary>One message id's history at the SMTP server: taken, refused with a 5xx, told to try later (4xx).</summary>
internal sealed record MailRecord(string MessageId, string Subject, int Accepted, int Refused, int TriedLater);
