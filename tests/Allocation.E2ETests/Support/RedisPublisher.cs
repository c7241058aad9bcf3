using StackExchange.Redis;

namespace Allocation.E2ETests.Support;

/// <summary>An upstream system: publishes raw payloads to a channel once the service listens on it.</summary>
public sealed class RedisPublisher : IAsyncDisposable
{
    private readonly ConnectionMultiplexer _connection;

    private RedisPublisher(ConnectionMultiplexer connection) => _connection = connection;

    public static async Task<RedisPublisher> ConnectAsync(string configuration) =>
        new(await ConnectionMultiplexer.ConnectAsync(configuration));

    /// <summary>
    /// Waits until something is subscribed to <paramref name="channel"/> (PUBSUB NUMSUB): the service
    /// subscribes in the background, and a message published before that is lost.
    /// </summary>
    public async Task WaitForSubscriberAsync(string channel, TimeSpan timeout)
    {
        var server = _connection.GetServers()[0];
        var deadline = DateTime.UtcNow + timeout;
        while (await SubscribersAsync(server, channel) < 1)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Nothing subscribed to {channel} within {timeout.TotalSeconds:0} s.");
            }

            await Task.Delay(25);
        }
    }

    /// <summary>
    /// Waits until the service hears its inbound channel: it has subscribed, and Redis counts the
    /// subscription. A message published before that is lost.
    /// </summary>
    public async Task WaitUntilHeardAsync(AllocationApp service)
    {
        await service.WaitUntilListeningAsync(Eventually.Patience);
        await WaitForSubscriberAsync(service.InboundChannel, Eventually.Patience);
    }

    public async Task PublishAsync(string channel, string payload) =>
        await _connection.GetSubscriber().PublishAsync(RedisChannel.Literal(channel), payload);

    /// <summary>Publishes raw bytes, which need not be text.</summary>
    public async Task PublishAsync(string channel, byte[] payload) =>
        await _connection.GetSubscriber().PublishAsync(RedisChannel.Literal(channel), payload);

    public async ValueTask DisposeAsync() => await _connection.DisposeAsync();

    private static async Task<long> SubscribersAsync(IServer server, string channel)
    {
        try
        {
            return await server.SubscriptionSubscriberCountAsync(RedisChannel.Literal(channel));
        }
        catch (RedisConnectionException)
        {
            return 0;
        }
    }
}
