using System.ComponentModel.DataAnnotations;

namespace Allocation.Infrastructure.Persistence.Sqlite;

/// <summary>Configuration section <c>Sqlite</c>: what only SQLite has.</summary>
public sealed class SqliteOptions
{
    public const string Section = "Sqlite";

    /// <summary>
    /// <c>Full</c> (default): a change the caller was told about survives a power cut. <c>Normal</c>
    /// survives a crash of the service but may lose the last commits on power loss, for fewer fsyncs.
    /// </summary>
    [EnumDataType(typeof(SynchronousMode))]
    public SynchronousMode Synchronous { get; set; } = SynchronousMode.Full;

    /// <summary>
    /// The write-ahead log's largest size, in MiB, before it is checkpointed in full and truncated. Passive
    /// checkpoints keep copying it back into the database but never shrink the file, and under steady load
    /// they may never reach its end; past this size the log is truncated, holding writes back while the
    /// last of it is copied (milliseconds, once per this many MiB written).
    /// </summary>
    [Range(1, 1_000_000)]
    public int WalLimitMb { get; set; } = 64;

    /// <summary>How long a writer waits for another process holding the write lock before retrying.</summary>
    [Range(0, 600_000)]
    public int BusyTimeoutMs { get; set; } = 5_000;
}

public enum SynchronousMode
{
    Off,
    Normal,
    Full,
    Extra,
}
