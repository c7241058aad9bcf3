using Allocation.Application.Bus;
using Allocation.Application.Ports;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Allocation.Infrastructure.Redis;

/// <summary>
/// Publishes to the topic's channel, in the entry's turn (<see cref="EventContext.SendInTurnAsync"/>):
/// the multiplexer writes commands in the order they are issued, so the dispatcher's concurrent sends
/// reach Redis in commit order. Fails at once while Redis is away, so the outbox keeps the event and
/// sends it after reconnection.
/// </summary>
internal sealed class RedisEventPublisher(RedisConnection redis, IOptions<MessagingOptions> options, EventContext context) : IEventPublisher
{
    public async ValueTask PublishAsync(Topic topic, LineMessage message, CancellationToken cancellationToken)
    {
        var multiplexer = await redis.ConnectAsync(cancellationToken);
        if (!multiplexer.IsConnected)
        {
            throw new UnavailableException("Redis is not connected; the event stays in the outbox.");
        }

        var channel = RedisChannel.Literal(options.Value.ChannelOf(topic));
        var payload = Wire.Serialize(message);
        try
        {
            await context.SendInTurnAsync(() => multiplexer.GetSubscriber().PublishAsync(channel, payload));
        }
        catch (Exception exception) when (exception is RedisConnectionException or RedisTimeoutException)
        {
            throw new UnavailableException($"Redis did not take the event: {exception.Message}", exception);
        }
    }
}
