using System.Data.Common;
using System.Threading.Channels;
using Allocation.Application.Ports;
using Allocation.Infrastructure.Outbox;
using Allocation.Infrastructure.Telemetry;
using Mediator;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Allocation.Infrastructure.Persistence;

/// <summary>
/// The one connection that writes (SQLite has one writer at a time anyway), driven by one loop with
/// group commit. Units of work queue up; the loop runs each in its own savepoint, back to back, inside
/// one transaction, and when the queue is empty (or the group is full) one COMMIT - one fsync - makes
/// the whole group durable. Every unit's caller is answered only after that commit, so no one is told
/// of a change, or of a read of one, that could still be lost. Under light load a group is one unit.
/// </summary>
/// <remarks>
/// Running units on the loop, rather than handing the connection from caller to caller, keeps the
/// serial part of a write free of thread switches: under load it was the wait for the next caller's
/// thread, not the SQL, that bounded throughput.
/// </remarks>
public sealed partial class SqliteWriter : IAsyncDisposable, IDisposable
{
    // Set while a unit runs on the loop: a unit that waited for another unit would wait for itself.
    [ThreadStatic]
    private static bool _onLoop;

    private readonly Channel<Work> _queue = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SqliteDatabase _database;
    private readonly OutboxSignal _signal;
    private readonly ServiceMetrics _metrics;
    private readonly int _maxGroup;
    private readonly ILogger<SqliteWriter> _logger;
    private readonly Lazy<Task> _loop;
    private PreparedConnection? _connection;

    public SqliteWriter(SqliteDatabase database, OutboxSignal signal, ServiceMetrics metrics, IOptions<SqliteOptions> options, ILogger<SqliteWriter> logger)
    {
        _database = database;
        _signal = signal;
        _metrics = metrics;
        _maxGroup = options.Value.MaxGroupCommit;
        _logger = logger;
        _loop = new Lazy<Task>(() => Task.Run(RunLoopAsync));
    }

    /// <summary>
    /// Runs <paramref name="work"/> as a unit on the writer. The unit's changes are kept when the work
    /// marked it kept (<see cref="WriteUnit.Keep"/>), else rolled back; the returned task completes,
    /// with the work's result or exception, once the group the unit ran in is committed.
    /// </summary>
    public Task<T> RunAsync<T>(Func<WriteUnit, ValueTask<T>> work, CancellationToken cancellationToken) =>
        Enqueue(new RunWork<T>(work, cancellationToken)).Completion;

    /// <summary>Runs a write that is kept unless it throws.</summary>
    public Task WriteAsync(Action<DbConnection> write, CancellationToken cancellationToken) =>
        RunAsync(
            unit =>
            {
                write(unit.Connection);
                unit.Keep();
                return ValueTask.FromResult(true);
            },
            cancellationToken);

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        if (_loop.IsValueCreated)
        {
            await _loop.Value;
        }

        _connection?.Dispose();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private TWork Enqueue<TWork>(TWork work)
        where TWork : Work
    {
        if (_onLoop)
        {
            throw new InvalidOperationException("A unit of work cannot wait for another unit while it runs on the writer.");
        }

        if (!_queue.Writer.TryWrite(work))
        {
            throw new ObjectDisposedException(nameof(SqliteWriter));
        }

        _ = _loop.Value;
        return work;
    }

    /// <summary>
    /// Supervises the loop: nothing may stop it. A fault that escapes a group (whatever its type) fails
    /// that group's callers, the connection and its open transaction are thrown away, and the loop
    /// goes on with the next unit on a fresh connection.
    /// </summary>
    private async Task RunLoopAsync()
    {
        var members = new List<Work>();
        while (true)
        {
            try
            {
                await RunGroupsAsync(members);
                return;
            }
            catch (Exception exception)
            {
                LogLoopFault(exception, members.Count);
                foreach (var member in members)
                {
                    member.Fail(exception);
                }

                members.Clear();
                _connection?.Dispose();
                _connection = null;
            }
        }
    }

    /// <summary>Runs groups until the queue is completed; <paramref name="members"/> is the group under way.</summary>
    private async Task RunGroupsAsync(List<Work> members)
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            PreparedConnection connection;
            try
            {
                connection = _connection ??= new PreparedConnection(_database.OpenWriter());
            }
            catch (Exception exception) when (exception is SqliteException or IOException or UnauthorizedAccessException)
            {
                // The database cannot be opened: everyone waiting is told; later work tries again.
                LogUnavailable(exception);
                var error = exception is SqliteException sqlite ? Errors.Translate(sqlite) : new UnavailableException("The database cannot be opened.", exception);
                while (reader.TryRead(out var waiting))
                {
                    waiting.Fail(error);
                }

                continue;
            }

            var begun = false;
            var wroteOutbox = false;
            members.Clear();
            while (members.Count < _maxGroup && reader.TryRead(out var work))
            {
                if (work.Cancellation.IsCancellationRequested)
                {
                    work.Fail(new OperationCanceledException(work.Cancellation));
                    continue;
                }

                try
                {
                    if (!begun)
                    {
                        Execute(connection, "BEGIN IMMEDIATE");
                        begun = true;
                    }

                    Execute(connection, "SAVEPOINT unit");
                }
                catch (SqliteException exception)
                {
                    // Another process holds the database: this unit is told, and retries as a whole.
                    work.Fail(Errors.Translate(exception));
                    continue;
                }

                members.Add(work);
                var unit = new WriteUnit(connection);
                var keep = await work.ExecuteAsync(unit);
                try
                {
                    if (keep)
                    {
                        Execute(connection, "RELEASE unit");
                        wroteOutbox |= unit.WroteOutbox;
                    }
                    else
                    {
                        Execute(connection, "ROLLBACK TO unit");
                        Execute(connection, "RELEASE unit");
                    }

                    work.Unit = unit;
                }
                catch (SqliteException exception)
                {
                    // SQLite rolled the whole transaction back (disk full, I/O error): the group is lost.
                    Abandon(connection, members, exception);
                    begun = false;
                }
            }

            if (begun)
            {
                Commit(connection, members, wroteOutbox);
            }
        }
    }

    private void Commit(DbConnection connection, List<Work> members, bool wroteOutbox)
    {
        try
        {
            Execute(connection, "COMMIT");
        }
        catch (SqliteException exception)
        {
            Abandon(connection, members, exception);
            return;
        }

        // Committed: every caller hears so first, whatever counting the events does after.
        foreach (var member in members)
        {
            member.Complete();
        }

        foreach (var member in members)
        {
            if (member.Unit is { Kept: true, Events: { } events })
            {
                _metrics.Committed(events);
            }
        }

        members.Clear();
        if (wroteOutbox)
        {
            _signal.Committed();
        }
    }

    private void Abandon(DbConnection connection, List<Work> members, SqliteException cause)
    {
        LogGroupFailed(cause, members.Count);
        try
        {
            Execute(connection, "ROLLBACK");
        }
        catch (SqliteException)
        {
            // SQLite had already rolled the transaction back.
        }

        var error = Errors.Translate(cause);
        foreach (var member in members)
        {
            member.Fail(error);
        }

        members.Clear();
    }

    private static void Execute(DbConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    [LoggerMessage(LogLevel.Error, "The database cannot be opened for writing")]
    private partial void LogUnavailable(Exception exception);

    [LoggerMessage(LogLevel.Error, "The writer failed while running a group of {Members} units; they were told, and it goes on with a new connection")]
    private partial void LogLoopFault(Exception exception, int members);

    [LoggerMessage(LogLevel.Error, "A commit group of {Members} units was rolled back")]
    private partial void LogGroupFailed(Exception exception, int members);

    /// <summary>Something to run on the writer: in a savepoint, then told the outcome after the group's commit.</summary>
    private abstract class Work(CancellationToken cancellation)
    {
        private readonly ExecutionContext? _callerContext = ExecutionContext.Capture();

        public CancellationToken Cancellation { get; } = cancellation;

        public WriteUnit? Unit { get; set; }

        /// <summary>Runs the work in the caller's execution context (its log scopes, its activity); returns whether to keep it.</summary>
        public ValueTask<bool> ExecuteAsync(WriteUnit unit)
        {
            ValueTask<bool> running = default;
            _onLoop = true;
            try
            {
                if (_callerContext is null)
                {
                    running = RunAsync(unit);
                }
                else
                {
                    ExecutionContext.Run(_callerContext, _ => running = RunAsync(unit), null);
                }
            }
            finally
            {
                _onLoop = false;
            }

            return running;
        }

        public abstract void Complete();

        public abstract void Fail(Exception exception);

        protected abstract ValueTask<bool> RunAsync(WriteUnit unit);
    }

    private sealed class RunWork<T>(Func<WriteUnit, ValueTask<T>> work, CancellationToken cancellation) : Work(cancellation)
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;
        private Exception? _error;

        public Task<T> Completion => _completion.Task;

        public override void Complete()
        {
            if (_error is not null)
            {
                _completion.TrySetException(_error);
            }
            else
            {
                _completion.TrySetResult(_result!);
            }
        }

        public override void Fail(Exception exception) => _completion.TrySetException(exception);

        protected override async ValueTask<bool> RunAsync(WriteUnit unit)
        {
            try
            {
                _result = await work(unit);
            }
            catch (Exception exception)
            {
                _error = exception is SqliteException sqlite ? Errors.Translate(sqlite) : exception;
            }

            return unit.Kept;
        }
    }
}

/// <summary>One unit of work's turn on the writer connection, inside its own savepoint.</summary>
public sealed class WriteUnit
{
    internal WriteUnit(DbConnection connection) => Connection = connection;

    public DbConnection Connection { get; }

    /// <summary>Whether the unit's changes are kept when it ends.</summary>
    public bool Kept { get; private set; }

    internal bool WroteOutbox { get; private set; }

    /// <summary>The events the unit recorded in the outbox, counted once it is durable.</summary>
    internal List<INotification>? Events { get; private set; }

    /// <summary>Keeps the unit's changes when it ends.</summary>
    public void Keep() => Kept = true;

    internal void RecordOutbox(IEnumerable<INotification> events)
    {
        (Events ??= []).AddRange(events);
        WroteOutbox = true;
    }
}
