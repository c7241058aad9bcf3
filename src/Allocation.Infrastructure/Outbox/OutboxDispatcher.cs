using System.Text.Json;
using Allocation.Application.Bus;
using Allocation.Application.Ports;
using Allocation.Domain;
using Allocation.Infrastructure.Persistence;
using Mediator;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Allocation.Infrastructure.Outbox;

/// <summary>
/// Publishes committed events to their handlers through the mediator, lane by lane in commit order, so
/// a mail server that is down never holds back <c>line_allocated</c>. An entry is marked sent only after
/// its handlers succeeded (at-least-once). One that fails is retried with backoff while the entries
/// behind it wait, which keeps the lane in order, until it has failed <see cref="OutboxOptions.MaxAttempts"/>
/// times: then it becomes a dead letter and the lane goes on. An outage (the destination cannot be
/// reached) is waited out without spending that budget. An event that fails outbound validation is a
/// dead letter at once. Dead letters of the outbox can be replayed (<see cref="IReplayer"/>).
/// </summary>
public sealed partial class OutboxDispatcher(
    IServiceScopeFactory scopes,
    OutboxStore store,
    OutboxSignal signal,
    Writer writer,
    LeaderElection leader,
    DeadLetterStore deadLetters,
    IOptions<OutboxOptions> options,
    TimeProvider time,
    ILogger<OutboxDispatcher> logger) : BackgroundService, IReplayer
{
    private const string SourcePrefix = "outbox:";

    /// <summary>
    /// The lanes, each a set of event types dispatched together in commit order. Events announced
    /// downstream share one, so that a consumer hears of a line's allocation before its cancellation;
    /// every other type has its own.
    /// </summary>
    internal static readonly IReadOnlyList<string[]> Lanes = EventSerializer.EventTypes
        .GroupBy(type => type is nameof(Allocated) or nameof(LineCancelled) ? "downstream" : type)
        .Select(lane => lane.Order(StringComparer.Ordinal).ToArray())
        .ToList();

    private readonly OutboxOptions _options = options.Value;
    private readonly Lock _stopLock = new();
    private Task? _stopping;

    public bool Accepts(string source) =>
        source.StartsWith(SourcePrefix, StringComparison.Ordinal) && EventSerializer.EventTypes.Contains(source[SourcePrefix.Length..]);

    /// <summary>Sends an event the outbox gave up on again, with its message id, through the same validation and handlers.</summary>
    public async ValueTask<ReplayOutcome> ReplayAsync(DeadLetter deadLetter, CancellationToken cancellationToken)
    {
        var entry = new OutboxEntry
        {
            Type = deadLetter.Source[SourcePrefix.Length..],
            Payload = deadLetter.Payload,
            MessageId = deadLetter.MessageId ?? Guid.CreateVersion7().ToString(),
        };
        var (kind, error) = await DispatchAsync(entry, Task.FromResult(true), new TaskCompletionSource<bool>(), cancellationToken);
        return kind == Outcome.Delivered ? ReplayOutcome.Applied : new ReplayOutcome(error);
    }

    /// <summary>Dispatches while this instance leads, so that with many instances each event goes out once.</summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        leader.WhileLeadingAsync(
            async leading =>
            {
                await DeadLetterUnknownTypesAsync(leading);
                await Task.WhenAll(Lanes.Select(lane => RunLaneAsync(lane, leading)).Append(PruneAsync(leading)));
            },
            stoppingToken);

    // Entries of a type this build does not know (written by a newer or older version) have no lane;
    // rather than wait forever they become dead letters an operator can see.
    private async Task DeadLetterUnknownTypesAsync(CancellationToken cancellationToken)
    {
        var unknown = store.PendingOfOtherTypes(EventSerializer.EventTypes);
        if (unknown.Count == 0)
        {
            return;
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await writer.WriteAsync(
            connection =>
            {
                foreach (var entry in unknown)
                {
                    GiveUp(connection, entry, $"Unknown event type {entry.Type}.", now);
                }
            },
            cancellationToken);
    }

    /// <summary>
    /// On shutdown, after the lanes stop waiting, gives what is still pending a bounded time
    /// (<see cref="OutboxOptions.ShutdownDrain"/>) to go out; what does not stays for the next start.
    /// </summary>
    /// <remarks>
    /// The host may stop twice at once (a caller stops it while <c>WebApplication.Run</c> also does, as
    /// <c>WebApplicationFactory</c> does); every caller waits for the one drain, so the first to finish
    /// cannot dispose the writer under the other's drain.
    /// </remarks>
    public override Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_stopLock)
        {
            return _stopping ??= DrainOnStopAsync(cancellationToken);
        }
    }

    private async Task DrainOnStopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (!leader.IsLeader)
        {
            return;
        }

        using var drain = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        drain.CancelAfter(_options.ShutdownDrain);
        try
        {
            await Task.WhenAll(Lanes.Select(async lane =>
            {
                using var reader = store.ReaderOf(lane);
                while ((await DispatchLaneAsync(lane, reader, ignoreSchedule: false, drain.Token)).Kind == LaneKind.Busy)
                {
                }
            }));
        }
        catch (OperationCanceledException)
        {
            LogDrainIncomplete(_options.ShutdownDrain.TotalSeconds);
        }
    }

    /// <summary>
    /// Dispatches what one lane has ready: <paramref name="justCommitted"/>, entries just committed that the
    /// lane knows to be all there is, or else what it reads. Returns what the lane should do next.
    /// </summary>
    internal async Task<LaneState> DispatchLaneAsync(
        string[] lane, LaneReader reader, bool ignoreSchedule, CancellationToken cancellationToken, IReadOnlyList<OutboxEntry>? justCommitted = null)
    {
        // The downstream lane goes to Redis, so a whole batch is sent at once: each entry hands its
        // message over in its turn (EventContext.SendInTurnAsync), and an entry that could not hand its
        // message over stops the ones behind it, so nothing overtakes it. Other lanes change state or
        // send mail, one entry at a time.
        var pipelined = lane.Contains(nameof(Allocated));
        var limit = pipelined ? _options.BatchSize : 1;
        var entries = justCommitted is { } handed ? [.. handed.Take(limit)] : reader.Pending(limit);
        if (entries.Count == 0)
        {
            return LaneState.Empty;
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (!ignoreSchedule && entries[0].NextAttemptAt is { } due && due > now)
        {
            return LaneState.WaitingUntil(due);
        }

        var outcomes = new List<Task<(Outcome Kind, string? Error)>>(entries.Count);
        var previous = Task.FromResult(true);
        foreach (var entry in entries)
        {
            var handedOver = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            outcomes.Add(DispatchAsync(entry, previous, handedOver, cancellationToken));
            previous = handedOver.Task;
        }

        var settled = new List<(OutboxEntry Entry, Outcome Kind, string? Error)>(entries.Count);
        (OutboxEntry Entry, Outcome Kind, string Error)? stopped = null;
        for (var i = 0; i < entries.Count; i++)
        {
            var (kind, error) = await outcomes[i];
            if (stopped is not null)
            {
                continue;
            }

            var entry = entries[i];
            if (kind == Outcome.Failed && entry.Failures + 1 >= _options.MaxAttempts)
            {
                kind = Outcome.GivenUp;
                error = $"gave up after {entry.Failures + 1} failed attempts: {error}";
            }

            if (kind is Outcome.Failed or Outcome.Unavailable)
            {
                stopped = (entry, kind, error!);
            }
            else
            {
                settled.Add((entry, kind, error));
            }
        }

        var retryAt = stopped is { } head ? now + (long)Retries.OutboxDelay(head.Entry.Attempts + 1, TimeSpan.FromMilliseconds(_options.MaxRetryDelayMs)).TotalMilliseconds : 0;
        await RecordAsync(settled, stopped, retryAt, cancellationToken);
        ReportOutage(lane, stopped);
        return stopped is null ? LaneState.Busy : LaneState.WaitingUntil(retryAt);
    }

    private async Task RunLaneAsync(string[] lane, CancellationToken stoppingToken)
    {
        using var reader = store.ReaderOf(lane);
        var ignoreSchedule = true;

        // Entries committed while the lane, caught up, waited: sent without reading them back.
        IReadOnlyList<OutboxEntry>? justCommitted = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            var committed = signal.NextCommit(lane);
            var recovered = signal.NextRecovery;
            LaneState state;
            try
            {
                state = await DispatchLaneAsync(lane, reader, ignoreSchedule, stoppingToken, justCommitted);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                LogLaneFailed(exception, string.Join(",", lane));
                state = LaneState.WaitingUntil(time.GetUtcNow().ToUnixTimeMilliseconds() + _options.PollIntervalMs);
            }

            ignoreSchedule = false;
            justCommitted = null;
            if (state.Kind == LaneKind.Busy)
            {
                continue;
            }

            try
            {
                if (state.Kind == LaneKind.Empty)
                {
                    await Task.WhenAny(committed, Task.Delay(_options.PollIntervalMs, stoppingToken));
                    justCommitted = committed.IsCompleted ? signal.TakeCommitted(lane) : null;
                }
                else
                {
                    var wait = TimeSpan.FromMilliseconds(Math.Max(0, state.Due - time.GetUtcNow().ToUnixTimeMilliseconds()));
                    ignoreSchedule = await Task.WhenAny(recovered, Task.Delay(wait, time, stoppingToken)) == recovered;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Publishes one entry in a scope of its own, after <paramref name="previous"/> handed its message
    /// over; <paramref name="handedOver"/> tells the next entry whether this one did.
    /// </summary>
    private async Task<(Outcome Kind, string? Error)> DispatchAsync(
        OutboxEntry entry, Task<bool> previous, TaskCompletionSource<bool> handedOver, CancellationToken cancellationToken)
    {
        var outcome = await PublishAsync(entry, previous, handedOver, cancellationToken);

        // Not already told by the publisher (the entry never reached its send): a rejected entry is out of
        // the way, anything else holds the entries behind it back.
        handedOver.TrySetResult(outcome.Kind is Outcome.Delivered or Outcome.Rejected);
        return outcome;
    }

    private async Task<(Outcome Kind, string? Error)> PublishAsync(
        OutboxEntry entry, Task<bool> previous, TaskCompletionSource<bool> handedOver, CancellationToken cancellationToken)
    {
        INotification @event;
        try
        {
            @event = EventSerializer.Deserialize(entry.Type, entry.Payload);
        }
        catch (JsonException exception)
        {
            return (Outcome.Rejected, exception.Message);
        }

        await using var scope = scopes.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<EventContext>();
        context.MessageId = entry.MessageId;
        context.FollowAfter(previous, handedOver);
        try
        {
            await scope.ServiceProvider.GetRequiredService<IPublisher>().Publish(@event, cancellationToken);
            return (Outcome.Delivered, null);
        }
        catch (InvalidInputException exception)
        {
            return (Outcome.Rejected, exception.Message);
        }
        catch (Exception exception) when (IsOutage(exception) && !cancellationToken.IsCancellationRequested)
        {
            return (Outcome.Unavailable, exception.Message);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            return (Outcome.Failed, exception.Message);
        }
    }

    // An entry held back because one before it was not sent is not at fault either.
    private static bool IsOutage(Exception exception) =>
        exception is UnavailableException or ConcurrencyException or EventContext.NotInTurnException
        || (exception is AggregateException aggregate && aggregate.InnerExceptions.All(IsOutage));

    private async Task RecordAsync(
        List<(OutboxEntry Entry, Outcome Kind, string? Error)> settled,
        (OutboxEntry Entry, Outcome Kind, string Error)? stopped,
        long retryAt,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await writer.WriteAsync(
            connection =>
            {
                store.MarkDispatched(connection, [.. settled.Where(item => item.Kind == Outcome.Delivered).Select(item => item.Entry.Id)], now);
                foreach (var (entry, _, error) in settled.Where(item => item.Kind is Outcome.Rejected or Outcome.GivenUp))
                {
                    GiveUp(connection, entry, error!, now);
                }

                if (stopped is { } head)
                {
                    OutboxStore.ScheduleRetry(connection, head.Entry.Id, head.Error, retryAt, spent: head.Kind == Outcome.Failed);
                }
            },
            cancellationToken,
            // That entries were sent may be lost to a power cut: they are sent again, as at-least-once allows,
            // and no command waits behind an fsync for it. Dead letters and retries are kept for sure.
            durable: stopped is not null || settled.Exists(item => item.Kind != Outcome.Delivered));
    }

    /// <summary>Takes the entry out of its lane and keeps it as a dead letter, which can be replayed.</summary>
    private void GiveUp(System.Data.Common.DbConnection connection, OutboxEntry entry, string error, long now)
    {
        LogGaveUp(entry.Type, entry.MessageId, DeadLetterStore.Excerpt(error), DeadLetterStore.Excerpt(entry.Payload));
        OutboxStore.MarkRejected(connection, entry.Id, error, now);
        deadLetters.Record(connection, $"{SourcePrefix}{entry.Type}", entry.Payload, error, entry.MessageId);
    }

    /// <summary>Sent entries past <see cref="OutboxOptions.Retention"/>, and dead letters past theirs, are deleted on each beat.</summary>
    private async Task PruneAsync(CancellationToken stoppingToken)
    {
        const int chunk = 2_000;
        using var timer = new PeriodicTimer(_options.PruneInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var cutoff = (time.GetUtcNow() - _options.Retention).ToUnixTimeMilliseconds();
                var pruned = 0;
                do
                {
                    await writer.WriteAsync(connection => pruned = OutboxStore.Prune(connection, cutoff, chunk), stoppingToken);
                }
                while (pruned == chunk);

                // Dead letters are kept bounded on the same beat: retention, then a maximum count.
                await writer.WriteAsync(connection => deadLetters.Prune(connection), stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
