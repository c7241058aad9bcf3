using System.ComponentModel.DataAnnotations;

namespace Allocation.Infrastructure.Outbox;

/// <summary>Configuration section <c>Outbox</c>.</summary>
public sealed class OutboxOptions
{
    public const string Section = "Outbox";

    /// <summary>Fallback polling when no commit wakes the dispatcher (e.g. rows written by another process).</summary>
    [Range(10, 600_000)]
    public int PollIntervalMs { get; set; } = 1_000;

    /// <summary>Most entries of one lane published before they are marked sent together.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 256;

    /// <summary>
    /// Failed deliveries of one entry before it becomes a dead letter and its lane goes on. Only
    /// attempts the destination answered and refused count: while it cannot be reached at all (Redis
    /// or the mail server down, the database full), entries wait without spending this, however long
    /// the outage lasts. With the default backoff, 10 attempts span about a minute and a half.
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxAttempts { get; set; } = 10;

    /// <summary>Longest wait between retries of an entry whose handler keeps failing.</summary>
    [Range(10, 3_600_000)]
    public int MaxRetryDelayMs { get; set; } = 30_000;

    /// <summary>How long sent entries are kept before they are pruned.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(1);

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long shutdown waits for pending entries to go out.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan ShutdownDrain { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Above this many waiting entries the service reports itself not ready.</summary>
    [Range(1, long.MaxValue)]
    public long MaxBacklog { get; set; } = 10_000;
}
