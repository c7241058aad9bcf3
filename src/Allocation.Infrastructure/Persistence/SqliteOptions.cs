using System.ComponentModel.DataAnnotations;

namespace Allocation.Infrastructure.Persistence;

/// <summary>Configuration section <c>Sqlite</c>; the connection string is <c>ConnectionStrings:Allocation</c>.</summary>
public sealed class SqliteOptions
{
    public const string Section = "Sqlite";

    /// <summary>Set from <c>ConnectionStrings:Allocation</c>.</summary>
    [Required(ErrorMessage = "ConnectionStrings:Allocation must name the SQLite database, e.g. \"Data Source=data/allocation.db\".")]
    public string ConnectionString { get; set; } = "";

    /// <summary>
    /// <c>Full</c> (default): a change the caller was told about survives a power cut. <c>Normal</c>
    /// survives a crash of the service but may lose the last commits on power loss, for fewer fsyncs.
    /// </summary>
    [EnumDataType(typeof(SynchronousMode))]
    public SynchronousMode Synchronous { get; set; } = SynchronousMode.Full;

    /// <summary>How long a writer waits for another process holding the write lock before retrying.</summary>
    [Range(0, 600_000)]
    public int BusyTimeoutMs { get; set; } = 5_000;

    /// <summary>
    /// Most units of work committed by one transaction (and one fsync). 1 gives a transaction per unit.
    /// </summary>
    [Range(1, 10_000)]
    public int MaxGroupCommit { get; set; } = 256;
}

public enum SynchronousMode
{
    Off,
    Normal,
    Full,
    Extra,
}
