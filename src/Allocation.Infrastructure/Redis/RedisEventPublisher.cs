using Allocation.Application.Bus;
using Allocation.Application.Ports;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Allocation.Infrastructure.Redis;

/// <summary>
/// Publishes to the topic's channel, appends to its stream (field <c>payload</c>, trimmed approximately to
/// <see cref="MessagingOptions.StreamMaxLength"/>), or both, as <see cref="MessagingOptions.Transport"/> says.
/// Everything is sent in the entry's turn (<see cref="EventContext.SendInTurnAsync"/>): the multiplexer
/// writes commands in the order they are issued, so the dispatcher's concurrent sends reach Redis in commit
/// order, on the channel and in the stream alike. Fails at once while Redis is away, so the outbox keeps
/// the event and sends it after reconnection.
/// </summary>
internal sealed class RedisEventPublisher(RedisConnection redis, IOptions<MessagingOptions> options, EventContext context) : IEventPublisher
{
    private readonly MessagingOptions _options = options.Value;

    public async ValueTask PublishAsync(Topic topic, LineMessage message, CancellationToken cancellationToken)
    {
        var multiplexer = await redis.ConnectAsync(cancellationToken);
        if (!multiplexer.IsConnected)
        {
            throw new UnavailableException("Redis is not connected; the event stays in the outbox.");
        }

        var name = _options.ChannelOf(topic);
        var payload = Wire.Serialize(message);
        try
        {
            await context.SendInTurnAsync(() => _options.Transport switch
            {
                MessagingTransport.Streams => Append(multiplexer, name, payload),
                MessagingTransport.Both => Task.WhenAll(Publish(multiplexer, name, payload), Append(multiplexer, name, payload)),
                _ => Publish(multiplexer, name, payload),
            });
        }
        catch (Exception exception) when (exception is RedisConnectionException or RedisTimeoutException)
        {
            throw new UnavailableException($"Redis did not take the event: {exception.Message}", exception);
        }
    }

    private static Task Publish(IConnectionMultiplexer multiplexer, string channel, byte[] payload) =>
        multiplexer.GetSubscriber().PublishAsync(RedisChannel.Literal(channel), payload);

    private Task Append(IConnectionMultiplexer multiplexer, string stream, byte[] payload) =>
        multiplexer.GetDatabase().StreamAddAsync(
            stream, Wire.StreamPayloadField, payload, messageId: null, maxLength: _options.StreamMaxLength, useApproximateMaxLength: true);
}
