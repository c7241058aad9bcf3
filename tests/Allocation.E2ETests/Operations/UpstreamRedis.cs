using System.Collections.Concurrent;
using System.Net;
using Allocation.E2ETests.Support;
using StackExchange.Redis;

namespace Allocation.E2ETests.Operations;

/// <summary>A client of the test Redis playing the upstream and downstream systems.</summary>
internal sealed class UpstreamRedis : IAsyncDisposable
{
    private readonly ConnectionMultiplexer _multiplexer;

    private UpstreamRedis(ConnectionMultiplexer multiplexer) => _multiplexer = multiplexer;

    public static async Task<UpstreamRedis> ConnectAsync(string configuration) =>
        new(await ConnectionMultiplexer.ConnectAsync(configuration));

    /// <summary>Publishes once someone subscribes to the channel, since pub/sub drops messages nobody hears.</summary>
    public async Task PublishAsync(string channel, string payload)
    {
        var server = _multiplexer.GetServers()[0];
        await Eventually.Until(
            () => server.SubscriptionSubscriberCountAsync(RedisChannel.Literal(channel)),
            count => count > 0,
            $"the service to subscribe to {channel}");
        await _multiplexer.GetSubscriber().PublishAsync(RedisChannel.Literal(channel), payload);
    }

    /// <summary>
    /// Waits until the service handles what is published on its inbound <paramref name="channel"/>. Redis
    /// counts the service as a subscriber a moment before its client library delivers to it, and a
    /// message published in that moment is lost. So quantity changes of a probe batch are published until
    /// the last one takes effect, which also means no earlier probe is still on its way.
    /// </summary>
    public async Task WaitUntilHeardAsync(HttpClient service, string channel)
    {
        const string probe = "listening-probe";
        (await service.AddBatchAsync(probe, "LISTENING-PROBE", 0)).StatusCode.ShouldBe(HttpStatusCode.Created);
        var deadline = DateTime.UtcNow + Eventually.Patience;
        for (var qty = 1; DateTime.UtcNow < deadline; qty++)
        {
            await PublishAsync(channel, $$"""{"batchref":"{{probe}}","qty":{{qty}}}""");
            var answered = DateTime.UtcNow.AddSeconds(2);
            while (DateTime.UtcNow < answered)
            {
                if ((await (await service.GetAsync($"/batches/{probe}")).JsonAsync()).GetProperty("purchased").GetInt32() == qty)
                {
                    return;
                }

                await Task.Delay(50);
            }
        }

        Assert.Fail($"The service never handled a message on {channel}.");
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
