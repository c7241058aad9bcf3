using System.Text.Json;
using Allocation.Application.Bus;
using Allocation.Domain;
using Allocation.Infrastructure.Persistence;
using FluentValidation;
using Mediator;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Allocation.Infrastructure.Outbox;

/// <summary>
/// Publishes committed events to their handlers through the mediator, each event type as its own lane
/// in commit order, so a mail server that is down never holds back <c>line_allocated</c>. An entry is
/// marked sent only after its handlers succeeded (at-least-once); one that fails is retried with
/// backoff, and the entries behind it wait, which keeps the lane in order. An event that fails outbound
/// validation is a dead letter and the lane goes on.
/// </summary>
public sealed partial class OutboxDispatcher(
    IServiceScopeFactory scopes,
    OutboxStore store,
    OutboxSignal signal,
    SqliteWriter writer,
    DeadLetterStore deadLetters,
    IOptions<OutboxOptions> options,
    TimeProvider time,
    ILogger<OutboxDispatcher> logger) : BackgroundService
{
    private readonly OutboxOptions _options = options.Value;
    private readonly Lock _stopLock = new();
    private Task? _stopping;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await DeadLetterUnknownTypesAsync(stoppingToken);
        await Task.WhenAll(EventSerializer.EventTypes.Select(type => RunLaneAsync(type, stoppingToken)).Append(PruneAsync(stoppingToken)));
    }

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
                    var error = $"Unknown event type {entry.Type}.";
                    LogRejected(entry.Type, entry.MessageId, error, entry.Payload);
                    OutboxStore.MarkRejected(connection, entry.Id, error, now);
                    deadLetters.Record(connection, $"outbox:{entry.Type}", entry.Payload, error);
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
        using var drain = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        drain.CancelAfter(_options.ShutdownDrain);
        try
        {
            await Task.WhenAll(EventSerializer.EventTypes.Select(async type =>
            {
                while ((await DispatchLaneAsync(type, ignoreSchedule: false, drain.Token)).Kind == LaneKind.Busy)
                {
                }
            }));
        }
        catch (OperationCanceledException)
        {
            LogDrainIncomplete(_options.ShutdownDrain.TotalSeconds);
        }
    }

    /// <summary>Dispatches what one lane has ready; returns whether anything was attempted.</summary>
    internal async Task<LaneState> DispatchLaneAsync(string type, bool ignoreSchedule, CancellationToken cancellationToken)
    {
        // Allocated entries go to Redis, which runs one connection's commands in order, so a whole batch
        // is published at once. A failure retries that entry and all after it; a connection that fails
        // one PUBLISH fails the ones queued behind it too, so the batch does not go out of order. Other
        // lanes change state or send mail, one entry at a time.
        var pipelined = type == nameof(Allocated);
        var entries = store.Pending(type, pipelined ? _options.BatchSize : 1);
        if (entries.Count == 0)
        {
            return LaneState.Empty;
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (!ignoreSchedule && entries[0].NextAttemptAt is { } due && due > now)
        {
            return LaneState.WaitingUntil(due);
        }

        var outcomes = entries.Select(entry => DispatchAsync(entry, cancellationToken)).ToList();
        var delivered = new List<long>(entries.Count);
        var rejected = new List<(OutboxEntry Entry, string Error)>();
        (OutboxEntry Entry, string Error)? failed = null;
        for (var i = 0; i < entries.Count; i++)
        {
            var (kind, error) = await outcomes[i];
            if (failed is not null)
            {
                continue;
            }

            switch (kind)
            {
                case Outcome.Delivered:
                    delivered.Add(entries[i].Id);
                    break;
                case Outcome.Rejected:
                    rejected.Add((entries[i], error!));
                    break;
                default:
                    failed = (entries[i], error!);
                    break;
            }
        }

        var retryAt = 0L;
        if (failed is { } failure)
        {
            // Logged once per attempt of the lane's head, not for every entry queued behind it.
            retryAt = now + (long)RetryDelay(failure.Entry.Attempts + 1).TotalMilliseconds;
            LogDispatchFailed(type, failure.Entry.MessageId, failure.Entry.Attempts + 1, failure.Error);
        }

        await RecordAsync(type, delivered, rejected, failed, retryAt, cancellationToken);
        return failed is null ? LaneState.Busy : LaneState.WaitingUntil(retryAt);
    }

    private async Task RunLaneAsync(string type, CancellationToken stoppingToken)
    {
        var ignoreSchedule = true;
        while (!stoppingToken.IsCancellationRequested)
        {
            var committed = signal.NextCommit;
            var recovered = signal.NextRecovery;
            LaneState state;
            try
            {
                state = await DispatchLaneAsync(type, ignoreSchedule, stoppingToken);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                LogLaneFailed(exception, type);
                state = LaneState.WaitingUntil(time.GetUtcNow().ToUnixTimeMilliseconds() + _options.PollIntervalMs);
            }

            ignoreSchedule = false;
            if (state.Kind == LaneKind.Busy)
            {
                continue;
            }

            try
            {
                if (state.Kind == LaneKind.Empty)
                {
                    await Task.WhenAny(committed, Task.Delay(_options.PollIntervalMs, stoppingToken));
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

    private async Task<(Outcome Kind, string? Error)> DispatchAsync(OutboxEntry entry, CancellationToken cancellationToken)
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
        scope.ServiceProvider.GetRequiredService<EventContext>().MessageId = entry.MessageId;
        try
        {
            await scope.ServiceProvider.GetRequiredService<IPublisher>().Publish(@event, cancellationToken);
            return (Outcome.Delivered, null);
        }
        catch (ValidationException exception)
        {
            return (Outcome.Rejected, exception.Message);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            return (Outcome.Failed, exception.Message);
        }
    }

    private async Task RecordAsync(
        string type,
        List<long> delivered,
        List<(OutboxEntry Entry, string Error)> rejected,
        (OutboxEntry Entry, string Error)? failed,
        long retryAt,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await writer.WriteAsync(
            connection =>
            {
                OutboxStore.MarkDispatched(connection, delivered, now);
                foreach (var (entry, error) in rejected)
                {
                    LogRejected(entry.Type, entry.MessageId, error, entry.Payload);
                    OutboxStore.MarkRejected(connection, entry.Id, error, now);
                    deadLetters.Record(connection, $"outbox:{type}", entry.Payload, error);
                }

                if (failed is { } failure)
                {
                    OutboxStore.ScheduleRetry(connection, failure.Entry.Id, failure.Error, retryAt);
                }
            },
            cancellationToken);
    }

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
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    // 0.25 s doubling per attempt, capped: a destination that is down for long is tried twice a minute.
    private TimeSpan RetryDelay(int attempt) =>
        TimeSpan.FromMilliseconds(Math.Min(_options.MaxRetryDelayMs, 250d * Math.Pow(2, Math.Min(attempt - 1, 20))));

    [LoggerMessage(LogLevel.Warning, "Dispatching {EventType} {MessageId} failed (attempt {Attempt}); it will be retried: {Reason}")]
    private partial void LogDispatchFailed(string eventType, string messageId, int attempt, string reason);

    [LoggerMessage(LogLevel.Error, "{EventType} {MessageId} was rejected and stored as a dead letter: {Reason}. Payload: {Payload}")]
    private partial void LogRejected(string eventType, string messageId, string reason, string payload);

    [LoggerMessage(LogLevel.Warning, "The outbox did not drain within {Seconds} s of shutdown; the rest goes out after the next start")]
    private partial void LogDrainIncomplete(double seconds);

    [LoggerMessage(LogLevel.Error, "Outbox lane {EventType} failed; it resumes shortly")]
    private partial void LogLaneFailed(Exception exception, string eventType);

    private enum Outcome
    {
        Delivered,
        Rejected,
        Failed,
    }
}

internal enum LaneKind
{
    Empty,
    Busy,
    Waiting,
}

/// <summary>What a lane should do next: sleep until a commit, go again at once, or wait until <see cref="Due"/> (Unix ms).</summary>
internal readonly record struct LaneState(LaneKind Kind, long Due)
{
    public static LaneState Empty => new(LaneKind.Empty, 0);

    public static LaneState Busy => new(LaneKind.Busy, 0);

    public static LaneState WaitingUntil(long due) => new(LaneKind.Waiting, due);
}
