using System.Text;
using Allocation.Application.Bus;
using Allocation.Application.Ports;
using Allocation.Domain;
using Allocation.Infrastructure.Persistence;
using Allocation.Infrastructure.Telemetry;
using Mediator;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using StackExchange.Redis;

namespace Allocation.Infrastructure.Redis;

/// <summary>
/// Turns inbound Redis messages into commands and sends them through the same pipeline as HTTP, one at
/// a time in arrival order. A message that cannot be applied is logged with its payload, stored as a
/// dead letter, and the consumer goes on with the next one.
/// </summary>
public sealed partial class RedisCommandSubscriber(
    RedisConnection redis,
    IServiceScopeFactory scopes,
    DeadLetterStore deadLetters,
    LeaderElection leader,
    ServiceMetrics metrics,
    IOptions<MessagingOptions> options,
    ILogger<RedisCommandSubscriber> logger) : BackgroundService, IReplayer
{
    private int _listening;
    private const string SourcePrefix = "redis:";
    private readonly MessagingOptions _options = options.Value;

    /// <summary>Each inbound channel and the command its payload becomes.</summary>
    private readonly Dictionary<string, Func<ReadOnlyMemory<byte>, object>> _routes = new(StringComparer.Ordinal)
    {
        [options.Value.InboundChannel] = payload => Wire.ParseChangeBatchQuantity(payload),
    };

    /// <summary>Consumes while this instance leads: pub/sub hands every message to every subscriber, and each must be applied once.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var multiplexer = await redis.ConnectAsync(stoppingToken);
        await leader.WhileLeadingAsync(
            leading => Task.WhenAll(_routes.Select(route => ConsumeAsync(multiplexer, route.Key, route.Value, leading))),
            stoppingToken);
    }

    /// <summary>Whether every inbound channel is subscribed; messages published before that are not received.</summary>
    public bool IsListening => Volatile.Read(ref _listening) == _routes.Count;

    public bool Accepts(string source) =>
        source.StartsWith(SourcePrefix, StringComparison.Ordinal) && _routes.ContainsKey(source[SourcePrefix.Length..]);

    /// <summary>Applies a stored message (a dead letter being replayed) as if it had just arrived: its own bytes, every check.</summary>
    public async ValueTask<ReplayOutcome> ReplayAsync(DeadLetter deadLetter, CancellationToken cancellationToken) =>
        await ApplyToChannelAsync(deadLetter.Source[SourcePrefix.Length..], deadLetter.Bytes, cancellationToken);

    /// <summary>Handles one message as the consumer does: applied, or refused and stored as a dead letter.</summary>
    public async Task HandleAsync(string channel, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var outcome = await ApplyToChannelAsync(channel, payload, cancellationToken);
        metrics.Inbound(channel, outcome.WasApplied);
        if (outcome.Error is { } error)
        {
            LogRefused(channel, DeadLetterStore.Excerpt(error), DeadLetterStore.Excerpt(payload.Span));
            await deadLetters.RecordAsync($"{SourcePrefix}{channel}", payload, error, cancellationToken);
        }
    }

    private async ValueTask<ReplayOutcome> ApplyToChannelAsync(string channel, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        if (payload.Length > _options.MaxInboundBytes)
        {
            return new ReplayOutcome($"payload of {payload.Length} bytes exceeds the limit of {_options.MaxInboundBytes}");
        }

        object command;
        try
        {
            command = _routes[channel](payload);
        }
        catch (InvalidMessageException exception)
        {
            return new ReplayOutcome(exception.Message);
        }

        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(Retries.OnRetry, (attempt, exception) => LogRetrying(channel, attempt, exception.Message));
        try
        {
            await Retries.Inbound.ExecuteAsync(
                static async (context, state) =>
                {
                    await using var scope = state.scopes.CreateAsyncScope();
                    await scope.ServiceProvider.GetRequiredService<ISender>().Send(state.command, context.CancellationToken);
                },
                context,
                (scopes, command));
            return ReplayOutcome.Applied;
        }
        catch (RejectedException exception)
        {
            return new ReplayOutcome(exception.Message);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            return new ReplayOutcome($"failed after retries: {exception.Message}");
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async Task ConsumeAsync(
        IConnectionMultiplexer multiplexer, string channel, Func<ReadOnlyMemory<byte>, object> route, CancellationToken stoppingToken)
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
                    await HandleAsync(channel, payload, CancellationToken.None);
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

    [LoggerMessage(LogLevel.Warning, "Message on {Channel} refused and stored as a dead letter: {Reason}. Payload: {Payload}")]
    private partial void LogRefused(string channel, string reason, string payload);

    [LoggerMessage(LogLevel.Warning, "Message on {Channel} failed (attempt {Attempt}), retrying: {Reason}")]
    private partial void LogRetrying(string channel, int attempt, string reason);
}
