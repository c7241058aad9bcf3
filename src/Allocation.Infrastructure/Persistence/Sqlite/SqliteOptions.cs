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
    /// The write-ahead log's size, in MiB, past which the writer itself checkpoints after a commit, so that
    /// the log starts over and its file is cut back to this size. The background checkpoints copy the log
    /// into the database all along but, while writes never stop, the log never starts over without this:
    /// it grew to 1.1 GB in a benchmark run. What the writer copies is what the background has not yet.
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
