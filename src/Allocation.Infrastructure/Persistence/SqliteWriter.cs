using System.Data.Common;
using Allocation.Infrastructure.Outbox;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Allocation.Infrastructure.Persistence;

/// <summary>
/// The one connection that writes, shared by every unit of work in turn (SQLite has one writer at a time
/// anyway), with group commit: units that queue up while another holds the connection join its
/// transaction, each inside its own savepoint, and one COMMIT - one fsync - makes all of them durable.
/// A unit's caller is answered only after that commit. Under light load every group has one unit.
/// </summary>
public sealed partial class SqliteWriter : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SqliteDatabase _database;
    private readonly int _maxGroup;
    private readonly OutboxSignal _signal;
    private readonly ILogger<SqliteWriter> _logger;
    private PreparedConnection? _connection;
    private CommitGroup? _group;
    private int _waiting;

    public SqliteWriter(SqliteDatabase database, OutboxSignal signal, IOptions<SqliteOptions> options, ILogger<SqliteWriter> logger)
    {
        _database = database;
        _signal = signal;
        _maxGroup = options.Value.MaxGroupCommit;
        _logger = logger;
    }

    /// <summary>Waits for the connection, then opens a unit (a savepoint in the current group's transaction).</summary>
    public async ValueTask<WriteUnit> BeginAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _waiting);
        try
        {
            await _gate.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Interlocked.Decrement(ref _waiting);

            // The unit that handed over may have left its group open for this waiter; close it.
            _ = CommitLeftoverGroupAsync();
            throw;
        }

        Interlocked.Decrement(ref _waiting);

        try
        {
            var connection = _connection ??= new PreparedConnection(_database.OpenWriter());
            if (_group is null)
            {
                Execute(connection, "BEGIN IMMEDIATE");
                _group = new CommitGroup();
            }

            Execute(connection, "SAVEPOINT unit");
            return new WriteUnit(this, connection);
        }
        catch (SqliteException exception)
        {
            AbandonGroup(exception);
            _gate.Release();
            throw Errors.Translate(exception);
        }
        catch
        {
            AbandonGroup(null);
            _gate.Release();
            throw;
        }
    }

    /// <summary>Ends a unit and hands the connection on; the returned task completes when the unit is durable.</summary>
    internal Task End(WriteUnit unit, bool keep)
    {
        var group = _group!;
        var connection = _connection!;
        try
        {
            if (keep)
            {
                Execute(connection, "RELEASE unit");
                group.Members++;
                group.WroteOutbox |= unit.WroteOutbox;
            }
            else
            {
                Execute(connection, "ROLLBACK TO unit");
                Execute(connection, "RELEASE unit");
            }

            var joinable = Volatile.Read(ref _waiting) > 0 && group.Members < _maxGroup;
            if (!joinable)
            {
                Commit(connection, group);
            }
        }
        catch (SqliteException exception)
        {
            AbandonGroup(exception);
        }
        finally
        {
            _gate.Release();
        }

        return keep ? group.Durable : Task.CompletedTask;
    }

    private async Task CommitLeftoverGroupAsync()
    {
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            if (_group is { } group && Volatile.Read(ref _waiting) == 0)
            {
                Commit(_connection!, group);
            }
        }
        catch (SqliteException exception)
        {
            AbandonGroup(exception);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _connection?.Dispose();
        _gate.Dispose();
    }

    private void Commit(DbConnection connection, CommitGroup group)
    {
        _group = null;
        Execute(connection, "COMMIT");
        group.Completed();
        if (group.WroteOutbox)
        {
            _signal.Committed();
        }
    }

    // A failed statement outside a savepoint, or a failed COMMIT, loses the whole group's transaction:
    // every unit in it is told, and none was answered yet.
    private void AbandonGroup(Exception? cause)
    {
        var group = _group;
        _group = null;
        if (_connection is { } connection)
        {
            try
            {
                Execute(connection, "ROLLBACK");
            }
            catch (SqliteException)
            {
                // No transaction was open (it failed to begin, or SQLite already rolled it back).
            }
        }

        if (group is not null)
        {
            LogGroupFailed(cause, group.Members);
            group.Failed(cause is SqliteException sqlite ? Errors.Translate(sqlite) : cause ?? new InvalidOperationException("The commit group was abandoned."));
        }
    }

    private static void Execute(DbConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }


    [LoggerMessage(LogLevel.Error, "A commit group of {Members} units was rolled back")]
    private partial void LogGroupFailed(Exception? exception, int members);

    private sealed class CommitGroup
    {
        private readonly TaskCompletionSource _durable = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Members { get; set; }

        public bool WroteOutbox { get; set; }

        public Task Durable => _durable.Task;

        public void Completed() => _durable.TrySetResult();

        public void Failed(Exception exception) => _durable.TrySetException(exception);
    }
}

/// <summary>One unit of work's turn on the writer connection.</summary>
public sealed class WriteUnit
{
    private readonly SqliteWriter _writer;
    private bool _ended;

    internal WriteUnit(SqliteWriter writer, DbConnection connection)
    {
        _writer = writer;
        Connection = connection;
    }

    public DbConnection Connection { get; }

    internal bool WroteOutbox { get; private set; }

    public void MarkOutboxWritten() => WroteOutbox = true;

    /// <summary>Keeps the unit's changes; the task completes once they are durable.</summary>
    public Task CommitAsync() => End(keep: true);

    public void Rollback() => End(keep: false);

    private Task End(bool keep)
    {
        ObjectDisposedException.ThrowIf(_ended, this);
        _ended = true;
        return _writer.End(this, keep);
    }
}
