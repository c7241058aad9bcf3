using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Allocation.Infrastructure.Persistence.Sqlite;

/// <summary>
/// Copies the write-ahead log back into the database file off the commit path. SQLite would otherwise
/// checkpoint inside whichever COMMIT crosses 1,000 pages of log, and that commit, with every caller of
/// its group, would wait for the copy and its fsync: a latency spike every few thousand writes. The
/// writer's connection checkpoints only when the log passes <see cref="SqliteOptions.WalLimitMb"/>
/// (<see cref="SqliteDatabase.OpenWriter"/>); this loop runs passive checkpoints, which never block the
/// writer, on a connection of its own. It does nothing on PostgreSQL, which checkpoints on its own.
/// </summary>
public sealed partial class Checkpointer(ISqlDatabase database, ILogger<Checkpointer> logger) : BackgroundService
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
                    using var command = connection.CreateCommand();
                    command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
                    command.ExecuteNonQuery();
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

    [LoggerMessage(LogLevel.Debug, "WAL checkpoint failed, trying again: {Reason}")]
    private partial void LogFailed(string reason);
}
