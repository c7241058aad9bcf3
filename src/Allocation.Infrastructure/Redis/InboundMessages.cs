using Allocation.Application.Bus;
using Allocation.Application.Ports;
using Allocation.Domain;
using Allocation.Infrastructure.Persistence;
using Allocation.Infrastructure.Telemetry;
using Mediator;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

namespace Allocation.Infrastructure.Redis;

/// <summary>
/// What the pub/sub and the stream consumers share: the command each inbound channel's payload becomes (a
/// stream's key is its channel's name), sending it through the same pipeline as HTTP, and storing what
/// is refused as a dead letter. It also replays those dead letters (<see cref="IReplayer"/>), through the
/// same checks.
/// </summary>
public sealed partial class InboundMessages(
    IServiceScopeFactory scopes,
    DeadLetterStore deadLetters,
    ServiceMetrics metrics,
    IOptions<MessagingOptions> options,
    ILogger<InboundMessages> logger) : IReplayer
{
    private readonly MessagingOptions _options = options.Value;

    /// <summary>Each inbound channel and the command its payload becomes; a stream entry's id becomes the change's id.</summary>
    private readonly Dictionary<string, Func<ReadOnlyMemory<byte>, string?, object>> _routes = new(StringComparer.Ordinal)
    {
        [options.Value.InboundChannel] = (payload, changeId) => Wire.ParseChangeBatchQuantity(payload) with { ChangeId = changeId },
    };

    /// <summary>The inbound channels, which are also the keys of the inbound streams.</summary>
    public IReadOnlyCollection<string> Channels => _routes.Keys;

    public bool Accepts(string source) => InboundOrigin.TryParse(source, out var origin) && _routes.ContainsKey(origin.Name);

    /// <summary>
    /// Applies a stored message (a dead letter being replayed) as if it had just arrived: its own bytes, every
    /// check, and for a stream entry its id, so that a replay never brings back a quantity older than one applied since.
    /// </summary>
    public async ValueTask<ReplayOutcome> ReplayAsync(DeadLetter deadLetter, CancellationToken cancellationToken)
    {
        InboundOrigin.TryParse(deadLetter.Source, out var origin);
        var (outcome, error) = await ApplyAsync(origin, deadLetter.Bytes, origin.IsStream ? deadLetter.MessageId : null, Retries.Inbound, cancellationToken);
        return outcome == InboundOutcome.Applied ? ReplayOutcome.Applied : new ReplayOutcome(error);
    }

    /// <summary>
    /// Handles one pub/sub message: applied, retrying a failure a few times, or else stored as a dead letter,
    /// a failure included, since pub/sub never delivers a message again.
    /// </summary>
    public async Task<InboundOutcome> HandleMessageAsync(string channel, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var origin = InboundOrigin.Channel(channel);
        var (outcome, error) = await ApplyAsync(origin, payload, changeId: null, Retries.Inbound, cancellationToken);
        if (outcome == InboundOutcome.Applied)
        {
            metrics.Inbound(origin.Name, origin.Transport, applied: true);
            return outcome;
        }

        await DeadLetterAsync(origin, payload, outcome == InboundOutcome.DeadLettered ? error! : $"failed after retries: {error}", messageId: null, cancellationToken);
        return InboundOutcome.DeadLettered;
    }

    /// <summary>
    /// Handles one stream entry's payload as the change <paramref name="entryId"/>: applied, or refused and stored
    /// as a dead letter, or neither (with why). Nothing is retried here: an entry that was neither stays
    /// pending, and being delivered again is its retry.
    /// </summary>
    public async Task<(InboundOutcome Outcome, string? Error)> HandleEntryAsync(
        string stream, ReadOnlyMemory<byte> payload, string entryId, CancellationToken cancellationToken)
    {
        var origin = InboundOrigin.Stream(stream);
        var (outcome, error) = await ApplyAsync(origin, payload, entryId, ResiliencePipeline.Empty, cancellationToken);
        if (outcome == InboundOutcome.Applied)
        {
            metrics.Inbound(origin.Name, origin.Transport, applied: true);
        }
        else if (outcome == InboundOutcome.DeadLettered)
        {
            await DeadLetterAsync(origin, payload, error!, entryId, cancellationToken);
        }

        return (outcome, error);
    }

    /// <summary>
    /// Stores a refused message as a dead letter, logged with its payload. A stream entry's id is kept with it
    /// (and a redelivered entry is stored once).
    /// </summary>
    public async Task DeadLetterAsync(InboundOrigin origin, ReadOnlyMemory<byte> payload, string error, string? messageId, CancellationToken cancellationToken)
    {
        metrics.Inbound(origin.Name, origin.Transport, applied: false);
        LogRefused(origin.Source, messageId ?? "-", DeadLetterStore.Excerpt(error), DeadLetterStore.Excerpt(payload.Span));
        if (messageId is null)
        {
            await deadLetters.RecordAsync(origin.Source, payload, error, cancellationToken);
        }
        else
        {
            await deadLetters.RecordAsync(origin.Source, payload, error, messageId, cancellationToken);
        }
    }

    private async ValueTask<(InboundOutcome Outcome, string? Error)> ApplyAsync(
        InboundOrigin origin, ReadOnlyMemory<byte> payload, string? changeId, ResiliencePipeline retries, CancellationToken cancellationToken)
    {
        if (payload.Length > _options.MaxInboundBytes)
        {
            return (InboundOutcome.DeadLettered, $"payload of {payload.Length} bytes exceeds the limit of {_options.MaxInboundBytes}");
        }

        object command;
        try
        {
            command = _routes[origin.Name](payload, changeId);
        }
        catch (InvalidMessageException exception)
        {
            return (InboundOutcome.DeadLettered, exception.Message);
        }

        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(Retries.OnRetry, (attempt, exception) => LogRetrying(origin.Source, attempt, exception.Message));
        try
        {
            await retries.ExecuteAsync(
                static async (context, state) =>
                {
                    await using var scope = state.scopes.CreateAsyncScope();
                    await scope.ServiceProvider.GetRequiredService<ISender>().Send(state.command, context.CancellationToken);
                },
                context,
                (scopes, command));
            return (InboundOutcome.Applied, null);
        }
        catch (RejectedException exception)
        {
            return (InboundOutcome.DeadLettered, exception.Message);
        }
        catch (UnavailableException exception) when (!cancellationToken.IsCancellationRequested)
        {
            return (InboundOutcome.Unavailable, exception.Message);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            return (InboundOutcome.Failed, exception.Message);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    [LoggerMessage(LogLevel.Warning, "Message from {Source} (id {MessageId}) refused and stored as a dead letter: {Reason}. Payload: {Payload}")]
    private partial void LogRefused(string source, string messageId, string reason, string payload);

    [LoggerMessage(LogLevel.Warning, "Message from {Source} failed (attempt {Attempt}), retrying: {Reason}")]
    private partial void LogRetrying(string source, int attempt, string reason);
}

/// <summary>What became of an inbound message.</summary>
public enum InboundOutcome
{
    Applied,

    /// <summary>Refused by the rules, or not readable as its command: stored as a dead letter.</summary>
    DeadLettered,

    /// <summary>The database cannot take the change right now: the same message succeeds once it can.</summary>
    Unavailable,

    /// <summary>Neither applied nor refused, for another reason; the same message may succeed later.</summary>
    Failed,
}

/// <summary>
/// Where an inbound message came from, which is also its dead letters' source: <c>redis:&lt;channel&gt;</c> for
/// pub/sub, <c>redis-stream:&lt;stream&gt;</c> for a stream entry.
/// </summary>
public readonly record struct InboundOrigin(string Name, bool IsStream)
{
    private const string ChannelPrefix = "redis:";
    private const string StreamPrefix = "redis-stream:";

    public string Source => $"{(IsStream ? StreamPrefix : ChannelPrefix)}{Name}";

    /// <summary>The transport, as metrics label it.</summary>
    public string Transport => IsStream ? "streams" : "pubsub";

    public static InboundOrigin Channel(string channel) => new(channel, IsStream: false);

    public static InboundOrigin Stream(string stream) => new(stream, IsStream: true);

    public static bool TryParse(string source, out InboundOrigin origin)
    {
        origin = source.StartsWith(StreamPrefix, StringComparison.Ordinal) ? Stream(source[StreamPrefix.Length..])
            : source.StartsWith(ChannelPrefix, StringComparison.Ordinal) ? Channel(source[ChannelPrefix.Length..])
            : default;
        return origin.Name is not null;
    }
}
