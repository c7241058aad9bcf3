using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Allocation.Infrastructure.Persistence.Sqlite;

/// <summary>
/// Copies the write-ahead log back into the database file off the commit path. SQLite would otherwise
/// checkpoint inside whichever COMMIT crosses 1,000 pages of log, and that commit, with every caller of
/// its group, would wait for the copy and its fsync: a latency spike every few thousand writes. The
/// writer's connection has automatic checkpoints off (<see cref="SqliteDatabase.OpenWriter"/>); this
/// loop runs passive checkpoints, which never block the writer, on a connection of its own. A log file
/// grown past <see cref="SqliteOptions.WalLimitMb"/> (passive checkpoints never shrink it) is checkpointed
/// in full and truncated. It does nothing on PostgreSQL, which checkpoints on its own.
/// </summary>
public sealed partial class Checkpointer(ISqlDatabase database, IOptions<SqliteOptions> options, ILogger<Checkpointer> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (database is not SqliteDatabase sqlite)
        {
            return;
        }

        using var timer = new PeriodicTimer(Interval);
        SqliteConnection? connection = null;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    connection ??= (SqliteConnection)sqlite.OpenCheckpointer();
                    Checkpoint(connection, "PASSIVE");
                    var log = new FileInfo(sqlite.FilePath + "-wal");
                    if (log.Exists && log.Length > options.Value.WalLimitMb * 1024L * 1024L)
                    {
                        var clock = System.Diagnostics.Stopwatch.StartNew();
                        var busy = Checkpoint(connection, "TRUNCATE");
                        log.Refresh();
                        LogTruncated(log.Exists ? log.Length : 0, options.Value.WalLimitMb, busy, clock.Elapsed.TotalMilliseconds);
                    }
                }
                catch (SqliteException exception)
                {
                    // A busy or full database: the next tick tries again on a fresh connection.
                    LogFailed(exception.Message);
                    connection?.Dispose();
                    connection = null;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            connection?.Dispose();
        }
    }

    // Answers whether the checkpoint stopped short (SQLITE_BUSY: a reader or another writer kept it from finishing).
    private static bool Checkpoint(SqliteConnection connection, string mode)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA wal_checkpoint({mode})";
        using var result = command.ExecuteReader();
        return result.Read() && result.GetInt64(0) != 0;
    }

    [LoggerMessage(LogLevel.Information, "The write-ahead log passed {LimitMb} MiB: checkpointed in full and truncated to {Bytes} bytes in {ElapsedMs:0.0} ms (stopped short: {Busy})")]
    private partial void LogTruncated(long bytes, int limitMb, bool busy, double elapsedMs);

    [LoggerMessage(LogLevel.Debug, "WAL checkpoint failed, trying again: {Reason}")]
    private partial void LogFailed(string reason);
}
