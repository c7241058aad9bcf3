using System.Diagnostics;
using System.Text.Json;
using StackExchange.Redis;

namespace Allocation.Benchmarks.Chaos;

/// <summary>
/// How the harness talks to the service over Redis, straight to the server (never through the proxy the
/// service goes through), so that it stays connected through every fault and hears everything published.
/// Pub/sub is what the service speaks now. A streams transport would be a second implementation of
/// <see cref="IUpstream"/> (XADD to the inbound channel's stream, field <c>payload</c>) and of
/// <see cref="IDownstream"/> (XREADGROUP of the outbound streams in a group of the harness's own), with
/// every inbound entry then required to be applied: see <see cref="IUpstream.Lossy"/>.
/// </summary>
internal interface IUpstream
{
    /// <summary>"pub/sub".</summary>
    string Name { get; }

    /// <summary>Whether what is sent while the service is away may be lost (pub/sub), so only its consistency can be checked.</summary>
    bool Lossy { get; }

    /// <summary>Sends <c>change_batch_quantity</c>; answers how many consumers heard it, where the transport can tell (pub/sub), else null.</summary>
    Task<long?> ChangeBatchQuantityAsync(string reference, int qty);
}

internal interface IDownstream
{
    /// <summary>Every message heard so far, in arrival order.</summary>
    IReadOnlyList<Heard> Snapshot();
}

/// <summary>One outbound message as the downstream subscriber heard it.</summary>
internal sealed record Heard(string Channel, string Payload, string? MessageId, string? OrderId, string? Sku, int? Qty, string? BatchRef, long At)
{
    public static Heard Parse(string channel, string payload)
    {
        try
        {
            using var document = JsonDocument.Parse(payload);
            var root = document.RootElement;
            string? Text(string name) => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            int? Number(string name) => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt32() : null;
            return new Heard(channel, payload, Text("message_id"), Text("orderid"), Text("sku"), Number("qty"), Text("batchref"), Stopwatch.GetTimestamp());
        }
        catch (JsonException)
        {
            return new Heard(channel, payload, null, null, null, null, null, Stopwatch.GetTimestamp());
        }
    }
}

/// <summary>The upstream publisher and the downstream subscriber over pub/sub, on one connection of the harness's own.</summary>
internal sealed class PubSubMessaging : IUpstream, IDownstream, IAsyncDisposable
{
    public const string Inbound = "change_batch_quantity";
    public const string Allocated = "line_allocated";
    public const string Deallocated = "line_deallocated";

    private readonly ConnectionMultiplexer _redis;
    private readonly List<Heard> _heard = [];
    private readonly List<ChannelMessageQueue> _queues = [];

    private PubSubMessaging(ConnectionMultiplexer redis) => _redis = redis;

    public string Name => "pub/sub";

    public bool Lossy => true;

    public static async Task<PubSubMessaging> StartAsync(string redisConnection)
    {
        var redis = await ConnectionMultiplexer.ConnectAsync(redisConnection);
        var messaging = new PubSubMessaging(redis);
        foreach (var channel in new[] { Allocated, Deallocated })
        {
            var queue = await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(channel));
            queue.OnMessage(message =>
            {
                var heard = Heard.Parse(channel, (string?)message.Message ?? "");
                lock (messaging._heard)
                {
                    messaging._heard.Add(heard);
                }
            });
            messaging._queues.Add(queue);
        }

        return messaging;
    }

    public async Task<long?> ChangeBatchQuantityAsync(string reference, int qty) =>
        await _redis.GetSubscriber().PublishAsync(RedisChannel.Literal(Inbound), JsonSerializer.Serialize(new { batchref = reference, qty }));

    public IReadOnlyList<Heard> Snapshot()
    {
        lock (_heard)
        {
            return [.. _heard];
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var queue in _queues)
        {
            await queue.UnsubscribeAsync();
        }

        await _redis.DisposeAsync();
    }
}
