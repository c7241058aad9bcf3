using Allocation.Application.Bus;
using Allocation.Infrastructure.Persistence;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using StackExchange.Redis;

namespace Allocation.Infrastructure.Redis;

/// <summary>
/// Consumes the inbound pub/sub channels (<see cref="MessagingOptions.UsesPubSub"/>), one message at a time in
/// arrival order, through <see cref="InboundMessages"/>: a message that cannot be applied is logged with its
/// payload, stored as a dead letter, and the consumer goes on with the next one.
/// </summary>
public sealed partial class RedisCommandSubscriber(
    RedisConnection redis,
    InboundMessages inbound,
    LeaderElection leader,
    IOptions<MessagingOptions> options,
    ILogger<RedisCommandSubscriber> logger) : BackgroundService
{
    private int _listening;

    /// <summary>Consumes while this instance leads: pub/sub hands every message to every subscriber, and each must be applied once.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.UsesPubSub)
        {
            return;
        }

        var multiplexer = await redis.ConnectAsync(stoppingToken);
        await leader.WhileLeadingAsync(
            leading => Task.WhenAll(inbound.Channels.Select(channel => ConsumeAsync(multiplexer, channel, leading))),
            stoppingToken);
    }

    /// <summary>Whether every inbound channel is subscribed; messages published before that are not received.</summary>
    public bool IsListening => Volatile.Read(ref _listening) == inbound.Channels.Count;

    private async Task ConsumeAsync(IConnectionMultiplexer multiplexer, string channel, CancellationToken stoppingToken)
    {
        var queue = await SubscribeAsync(multiplexer, channel, stoppingToken);
        if (queue is null)
        {
            return;
        }

        LogSubscribed(channel);
        Interlocked.Increment(ref _listening);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var message = await queue.ReadAsync(stoppingToken);
                byte[] payload = message.Message.IsNull ? [] : (byte[])message.Message!;

                try
                {
                    // Not the stopping token: a message that was taken is finished during shutdown.
                    await inbound.HandleMessageAsync(channel, payload, CancellationToken.None);
                }
                catch (Exception exception)
                {
                    // Even the dead letter could not be stored (the database refuses writes): the log keeps
                    // the payload, and the consumer stays alive for the next message.
                    LogLost(exception, channel, DeadLetterStore.Excerpt(payload));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
        }
        finally
        {
            Interlocked.Decrement(ref _listening);
            await queue.UnsubscribeAsync();
        }
    }

    // Redis may be away at start-up; once subscribed, StackExchange.Redis re-subscribes after reconnects.
    private async Task<ChannelMessageQueue?> SubscribeAsync(IConnectionMultiplexer multiplexer, string channel, CancellationToken stoppingToken)
    {
        try
        {
            return await Retries.Reconnect(exception => exception is RedisException or RedisTimeoutException).ExecuteAsync(
                async token =>
                {
                    try
                    {
                        return await multiplexer.GetSubscriber().SubscribeAsync(RedisChannel.Literal(channel));
                    }
                    catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
                    {
                        // The failed attempt's queue stays registered, and StackExchange.Redis subscribes it once
                        // connected: it would take the channel's messages and nobody would read them.
                        await ForgetAsync(multiplexer, channel);
                        throw;
                    }
                },
                stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private static async Task ForgetAsync(IConnectionMultiplexer multiplexer, string channel)
    {
        try
        {
            await multiplexer.GetSubscriber().UnsubscribeAsync(RedisChannel.Literal(channel));
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
        {
            // Dropped locally all the same; the server has no subscription to remove while disconnected.
        }
    }

    [LoggerMessage(LogLevel.Error, "Message on {Channel} could not be applied nor stored as a dead letter. Payload: {Payload}")]
    private partial void LogLost(Exception exception, string channel, string payload);

    [LoggerMessage(LogLevel.Information, "Subscribed to Redis channel {Channel}")]
    private partial void LogSubscribed(string channel);

}
