using System.ComponentModel.DataAnnotations;

namespace Allocation.Infrastructure.Persistence;

/// <summary>Configuration section <c>DeadLetters</c>: how much of each is kept, and for how long.</summary>
public sealed class DeadLetterOptions
{
    public const string Section = "DeadLetters";

    /// <summary>Dead letters older than this are deleted.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "3650.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>At most this many are kept; the oldest go first.</summary>
    [Range(1, 100_000_000)]
    public int MaxCount { get; set; } = 10_000;

    /// <summary>Bytes of a payload kept; a larger message is kept truncated, says so, and is never replayed.</summary>
    [Range(1_024, 16 * 1024 * 1024)]
    public int MaxPayloadBytes { get; set; } = 64 * 1024;
}
