using System.Collections.Concurrent;
using Allocation.Infrastructure.Persistence;
using Microsoft.Extensions.Logging;

namespace Allocation.Infrastructure.Outbox;

/// <summary>What the dispatcher tells operators: an outage once when it starts, a summary every half minute while it lasts, once when it ends.</summary>
public sealed partial class OutboxDispatcher
{
    private static readonly TimeSpan OutageSummaryInterval = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, Outage> _outages = new(StringComparer.Ordinal);

    private void ReportOutage(string[] lane, (OutboxEntry Entry, Outcome Kind, string Error)? stopped)
    {
        var name = string.Join(",", lane);
        var now = time.GetUtcNow();
        if (stopped is { Kind: Outcome.Unavailable } head)
        {
            if (!_outages.TryGetValue(name, out var outage))
            {
                _outages[name] = new Outage(now) { LastSummary = now };
                LogOutageStarted(name, head.Error);
            }
            else if (now - outage.LastSummary >= OutageSummaryInterval)
            {
                outage.LastSummary = now;
                LogOutageContinues(name, Math.Round((now - outage.Since).TotalSeconds), store.Backlog().Count, head.Error);
            }

            return;
        }

        if (stopped is { Kind: Outcome.Failed } failure)
        {
            LogDispatchFailed(failure.Entry.Type, failure.Entry.MessageId, failure.Entry.Failures + 1, _options.MaxAttempts, failure.Error);
        }

        if (_outages.TryRemove(name, out var ended))
        {
            LogOutageEnded(name, Math.Round((now - ended.Since).TotalSeconds));
        }
    }

    [LoggerMessage(LogLevel.Warning, "Outbox lane {Lane}: its destination is unavailable, events wait and are retried with backoff: {Reason}")]
    private partial void LogOutageStarted(string lane, string reason);

    [LoggerMessage(LogLevel.Warning, "Outbox lane {Lane}: destination unavailable for {Seconds} s, {Pending} events waiting: {Reason}")]
    private partial void LogOutageContinues(string lane, double seconds, long pending, string reason);

    [LoggerMessage(LogLevel.Information, "Outbox lane {Lane}: destination available again after {Seconds} s")]
    private partial void LogOutageEnded(string lane, double seconds);

    [LoggerMessage(LogLevel.Warning, "Dispatching {EventType} {MessageId} failed (attempt {Attempt} of {MaxAttempts}); it will be retried: {Reason}")]
    private partial void LogDispatchFailed(string eventType, string messageId, int attempt, int maxAttempts, string reason);

    [LoggerMessage(LogLevel.Error, "{EventType} {MessageId} was given up and stored as a dead letter: {Reason}. Payload: {Payload}")]
    private partial void LogGaveUp(string eventType, string messageId, string reason, string payload);

    [LoggerMessage(LogLevel.Warning, "The outbox did not drain within {Seconds} s of shutdown; the rest goes out after the next start")]
    private partial void LogDrainIncomplete(double seconds);

    [LoggerMessage(LogLevel.Error, "Outbox lane {Lane} failed; it resumes shortly")]
    private partial void LogLaneFailed(Exception exception, string lane);

    private sealed class Outage(DateTimeOffset since)
    {
        public DateTimeOffset Since { get; } = since;

        public DateTimeOffset LastSummary { get; set; }
    }

    private enum Outcome
    {
        Delivered,
        Rejected,
        Unavailable,
        Failed,
        GivenUp,
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
