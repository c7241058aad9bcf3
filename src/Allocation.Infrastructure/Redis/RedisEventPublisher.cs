using Allocation.Application.Ports;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Allocation.Infrastructure.Redis;

/// <summary>
/// Publishes to the outbound channel. Fails at once while Redis is away, so the outbox keeps the event
/// and sends it after reconnection.
/// </summary>
internal sealed class RedisEventPublisher(RedisConnection redis, IOptions<MessagingOptions> options) : IEventPublisher
{
    private readonly RedisChannel _channel = RedisChannel.Literal(options.Value.OutboundChannel);

    public async ValueTask PublishAsync(LineAllocated message, CancellationToken cancellationToken)
    {
        var multiplexer = await redis.ConnectAsync(cancellationToken);
        if (!multiplexer.IsConnected)
        {
            throw new InvalidOperationException("Redis is not connected; the event stays in the outbox.");
        }

        await multiplexer.GetSubscriber().PublishAsync(_channel, Wire.Serialize(message));
    }
}
