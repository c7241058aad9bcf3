using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Allocation.E2ETests.Operations;

/// <summary>A client of the test Redis playing the upstream and downstream systems.</summary>
internal sealed class UpstreamRedis : IAsyncDisposable
{
    private readonly ConnectionMultiplexer _multiplexer;

    private UpstreamRedis(ConnectionMultiplexer multiplexer) => _multiplexer = multiplexer;

    public static async Task<UpstreamRedis> ConnectAsync(string configuration) =>
        new(await ConnectionMultiplexer.ConnectAsync(configuration));

    /// <summary>Publishes once the service listens on the channel, since pub/sub drops messages nobody hears.</summary>
    public async Task PublishAsync(string channel, string payload)
    {
        var server = _multiplexer.GetServers()[0];
        await Polling.UntilAsync(
            () => server.SubscriptionSubscriberCountAsync(RedisChannel.Literal(channel)),
            count => count > 0,
            $"the service subscribes to {channel}");
        await _multiplexer.GetSubscriber().PublishAsync(RedisChannel.Literal(channel), payload);
    }

    /// <summary>Every message published on the channel from now on, in arrival order.</summary>
    public async Task<ConcurrentQueue<string>> ListenAsync(string channel)
    {
        var received = new ConcurrentQueue<string>();
        var queue = await _multiplexer.GetSubscriber().SubscribeAsync(RedisChannel.Literal(channel));
        queue.OnMessage(message => received.Enqueue(message.Message.ToString()));
        return received;
    }

    public async ValueTask DisposeAsync() => await _multiplexer.DisposeAsync();
}
