using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using StackExchange.Redis;

namespace Allocation.Benchmarks.Chaos;

/// <summary>The Redis transports, as the service's <c>Messaging:Transport</c> names them.</summary>
internal enum Via
{
    PubSub,
    Stream,
}

/// <summary>
/// What the inbound stream and the service's consumer group on it look like now: entries added, the last
/// one handed to a consumer, and how many are pending (delivered, not acknowledged).
/// </summary>
internal sealed record InboundStreamState(long Length, string LastEntry, string LastDelivered, long Pending, int Consumers)
{
    /// <summary>Every entry was handed to a consumer and acknowledged.</summary>
    public bool Settled => Pending == 0 && LastDelivered == LastEntry;

    public override string ToString() =>
        $"stream length {Length}, last entry {LastEntry}, group's last delivered {LastDelivered}, pending {Pending}, consumers {Consumers}";
}

/// <summary>One outbound message as the downstream subscriber (pub/sub) or consumer group (stream) heard it.</summary>
internal sealed record Heard(Via Via, string Channel, string Payload, string? MessageId, string? OrderId, string? Sku, int? Qty, string? BatchRef, long At)
{
    public static Heard Parse(Via via, string channel, string payload)
    {
        try
        {
            using var document = JsonDocument.Parse(payload);
            var root = document.RootElement;
            string? Text(string name) => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            int? Number(string name) => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt32() : null;
            return new Heard(via, channel, payload, Text("message_id"), Text("orderid"), Text("sku"), Number("qty"), Text("batchref"), Stopwatch.GetTimestamp());
        }
        catch (JsonException)
        {
            return new Heard(via, channel, payload, null, null, null, null, null, Stopwatch.GetTimestamp());
        }
    }
}

/// <summary>
/// How the harness talks to the service over Redis, straight to the server (never through the proxy the
/// service goes through), so that it stays connected through every fault. Upstream it sends
/// <c>change_batch_quantity</c> over pub/sub (<c>PUBLISH</c>) or the stream (<c>XADD … payload</c>);
/// downstream it subscribes to the outbound channels and reads the outbound streams through a consumer
/// group of its own, acknowledging what it recorded.
/// </summary>
internal sealed class RedisMessaging : IAsyncDisposable
{
    public const string Inbound = "change_batch_quantity";
    public const string Allocated = "line_allocated";
    public const string Deallocated = "line_deallocated";

    /// <summary>The service's consumer group on the inbound stream (<c>Messaging:ConsumerGroup</c>'s default).</summary>
    public const string ServiceGroup = "allocation";

    // A name of the run's own, so that a Redis given in REDIS_URL may still hold an earlier run's group.
    private readonly string _downstreamGroup = $"chaos-{Guid.NewGuid().ToString("N")[..8]}";

    private readonly ConnectionMultiplexer _redis;
    private readonly List<Heard> _heard = [];
    private readonly List<ChannelMessageQueue> _queues = [];
    private readonly CancellationTokenSource _stopping = new();
    private Task _reading = Task.CompletedTask;

    private RedisMessaging(ConnectionMultiplexer redis, IReadOnlySet<Via> transports)
    {
        _redis = redis;
        Transports = transports;
    }

    /// <summary>What the service reads and writes: pub/sub, streams, or both.</summary>
    public IReadOnlySet<Via> Transports { get; }

    public static async Task<RedisMessaging> StartAsync(string redisConnection, IReadOnlySet<Via> transports)
    {
        var redis = await ConnectionMultiplexer.ConnectAsync(redisConnection);
        var messaging = new RedisMessaging(redis, transports);
        if (transports.Contains(Via.PubSub))
        {
            foreach (var channel in new[] { Allocated, Deallocated })
            {
                var queue = await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(channel));
                queue.OnMessage(message => messaging.Record(Heard.Parse(Via.PubSub, channel, (string?)message.Message ?? "")));
                messaging._queues.Add(queue);
            }
        }

        if (transports.Contains(Via.Stream))
        {
            var database = redis.GetDatabase();
            foreach (var stream in new[] { Allocated, Deallocated })
            {
                // At the stream's end: only what this run's service appends.
                await database.ExecuteAsync("XGROUP", "CREATE", stream, messaging._downstreamGroup, "$", "MKSTREAM");
            }

            messaging._reading = Task.Run(() => messaging.ReadStreamsAsync(messaging._stopping.Token));
        }

        return messaging;
    }

    /// <summary>
    /// Sends <c>change_batch_quantity</c>. Over pub/sub, answers how many consumers heard it (<c>PUBLISH</c>'s
    /// answer); over the stream, the entry's id (the stream keeps it for the service's group).
    /// </summary>
    public async Task<(long? Receivers, string? EntryId)> ChangeBatchQuantityAsync(string reference, int qty, Via via)
    {
        var payload = JsonSerializer.Serialize(new { batchref = reference, qty });
        if (via == Via.PubSub)
        {
            return (await _redis.GetSubscriber().PublishAsync(RedisChannel.Literal(Inbound), payload), null);
        }

        var id = await _redis.GetDatabase().StreamAddAsync(Inbound, "payload", payload);
        return (null, id.ToString());
    }

    /// <summary>The inbound stream and the service's group on it (<c>XINFO STREAM</c>, <c>XINFO GROUPS</c>, <c>XPENDING</c>).</summary>
    public async Task<InboundStreamState> InboundStateAsync()
    {
        var database = _redis.GetDatabase();
        var info = await database.StreamInfoAsync(Inbound);
        var group = (await database.StreamGroupInfoAsync(Inbound)).FirstOrDefault(group => group.Name == ServiceGroup);
        var pending = await database.StreamPendingAsync(Inbound, ServiceGroup);
        return new InboundStreamState(
            info.Length, info.LastGeneratedId.ToString(), group.LastDeliveredId ?? "none", pending.PendingMessageCount, group.ConsumerCount);
    }

    /// <summary>Every message heard so far, in arrival order.</summary>
    public IReadOnlyList<Heard> Snapshot()
    {
        lock (_heard)
        {
            return [.. _heard];
        }
    }

    private void Record(Heard heard)
    {
        lock (_heard)
        {
            _heard.Add(heard);
        }
    }

    // StackExchange.Redis cannot block on its shared connection: polls, briefly, while nothing arrives.
    private async Task ReadStreamsAsync(CancellationToken stopping)
    {
        var database = _redis.GetDatabase();
        while (!stopping.IsCancellationRequested)
        {
            var read = 0;
            foreach (var stream in new[] { Allocated, Deallocated })
            {
                try
                {
                    var entries = await database.StreamReadGroupAsync(stream, _downstreamGroup, "chaos", ">", count: 500);
                    foreach (var entry in entries)
                    {
                        Record(Heard.Parse(Via.Stream, stream, (string?)entry["payload"] ?? ""));
                    }

                    if (entries.Length > 0)
                    {
                        await database.StreamAcknowledgeAsync(stream, _downstreamGroup, [.. entries.Select(entry => entry.Id)]);
                    }

                    read += entries.Length;
                }
                catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
                {
                    Console.Error.WriteLine($"Reading {stream} through group {_downstreamGroup}: {exception.Message}");
                }
            }

            if (read == 0)
            {
                try
                {
                    await Task.Delay(50, stopping);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _reading;
        foreach (var queue in _queues)
        {
            await queue.UnsubscribeAsync();
        }

        await _redis.DisposeAsync();
        _stopping.Dispose();
    }

    public static string Name(Via via) => via == Via.PubSub ? "pub/sub" : "stream";

    public static string Describe(IReadOnlySet<Via> transports) =>
        transports.Count == 2 ? "Both (pub/sub and streams, in and out)" : transports.Contains(Via.Stream) ? "Streams" : "PubSub";

    public static string Setting(IReadOnlySet<Via> transports) =>
        transports.Count == 2 ? "Both" : transports.Contains(Via.Stream) ? "Streams" : "PubSub";

    public static IReadOnlySet<Via> Parse(string transport) => transport.ToLower(CultureInfo.InvariantCulture) switch
    {
        "pubsub" => new HashSet<Via> { Via.PubSub },
        "streams" => new HashSet<Via> { Via.Stream },
        "both" => new HashSet<Via> { Via.PubSub, Via.Stream },
        _ => throw new ArgumentException($"Unknown transport {transport}. {ChaosOptions.Usage}"),
    };
}
