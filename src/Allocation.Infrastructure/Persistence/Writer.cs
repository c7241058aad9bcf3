using System.Data.Common;
using System.Threading.Channels;
using Allocation.Application.Ports;
using Allocation.Infrastructure.Outbox;
using Allocation.Infrastructure.Telemetry;
using Mediator;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Allocation.Infrastructure.Persistence;

/// <summary>
/// The one connection that writes, driven by one loop on a thread of its own, with group commit. Units
/// of work queue up; the loop runs each in its own savepoint, back to back, inside one transaction, and
/// when the queue is empty (or the group is full) one COMMIT - one fsync - makes the whole group
/// durable. Every unit's caller is answered only after that commit, so no one is told of a change, or of
/// a read of one, that could still be lost. Under light load a group is one unit. The same loop serves
/// both databases; <see cref="ISqlDatabase"/> says how each begins, locks and names its errors.
/// </summary>
/// <remarks>
/// Running units on the loop, rather than handing the connection from caller to caller, keeps the
/// serial part of a write free of thread switches; a thread of its own keeps the loop's blocking
/// statements (COMMIT's fsync above all) off the thread pool, so that requests never wait for a pool
/// thread the writer holds.
/// </remarks>
public sealed partial class Writer : IAsyncDisposable
{
    // Set while a unit runs on the loop: a unit that waited for another unit would wait for itself.
    [ThreadStatic]
    private static bool _onLoop;

    private readonly Channel<Work> _queue = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ISqlDatabase _database;
    private readonly OutboxSignal _signal;
    private readonly ServiceMetrics _metrics;
    private readonly int _maxGroup;
    private readonly ILogger<Writer> _logger;
    private readonly Lock _start = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Thread? _thread;
    private DbConnection? _connection;

    // Units that met a product another instance holds: they go first in the next group.
    private List<Work> _deferred = [];


    public Writer(ISqlDatabase database, OutboxSignal signal, ServiceMetrics metrics, IOptions<DatabaseOptions> options, ILogger<Writer> logger)
    {
        _database = database;
        _signal = signal;
        _metrics = metrics;
        _maxGroup = options.Value.MaxGroupCommit;
        _logger = logger;
    }

    /// <summary>
    /// When writes last failed because the database could not take them (<see cref="UnavailableException"/>),
    /// and why: a full disk may still take a small write, so readiness looks at what callers met too.
    /// </summary>
    public (DateTimeOffset At, string Reason)? LastOutage =>
        Volatile.Read(ref _lastOutageBox) is { } box ? (DateTimeOffset.FromUnixTimeMilliseconds(box.At), box.Reason) : null;

    private OutageBox? _lastOutageBox;

    private sealed record OutageBox(long At, string Reason);

    /// <summary>
    /// Runs <paramref name="work"/> as a unit on the writer. The unit's changes are kept when the work
    /// marked it kept (<see cref="WriteUnit.Keep"/>), else rolled back; the returned task completes,
    /// with the work's result or exception, once the group the unit ran in is committed.
    /// </summary>
    /// <param name="keys">What the work is about, read ahead (and locked) for its whole group.</param>
    public Task<T> RunAsync<T>(MessageKeys keys, Func<WriteUnit, ValueTask<T>> work, CancellationToken cancellationToken) =>
        Enqueue(new RunWork<T>(keys, work, cancellationToken)).Completion;

    /// <summary>
    /// Runs a write that is kept unless it throws: the service's own records (outbox marks, dead letters,
    /// heartbeats), not products. One that need not be <paramref name="durable"/> (a record that may be
    /// lost to a power cut, such as which outbox entries were sent) is committed without waiting for the
    /// disk when its group holds nothing else. Where the database takes many writers at once, the write
    /// runs in a transaction of its own instead, rather than wait in a group and hold its products' locks.
    /// </summary>
    public Task WriteAsync(Action<DbConnection> write, CancellationToken cancellationToken, bool durable = true) =>
        _database.ManyWriters ? WriteApartAsync(write, durable, cancellationToken) : Enqueue(new RunWork<bool>(
            MessageKeys.None,
            unit =>
            {
                write(unit.Connection);
                unit.Keep();
                return ValueTask.FromResult(true);
            },
            cancellationToken) { Durable = durable }).Completion;

    private async Task WriteApartAsync(Action<DbConnection> write, bool durable, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _database.OpenReaderAsync(cancellationToken);
            Execute(connection, _database.BeginWriteApart(durable));
            try
            {
                write(connection);
                Execute(connection, "COMMIT");
            }
            catch when (connection.State == System.Data.ConnectionState.Open)
            {
                Execute(connection, "ROLLBACK");
                throw;
            }
        }
        catch (DbException exception)
        {
            var error = _database.Translate(exception);
            NoteOutage(error);
            throw error;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        if (_thread is not null)
        {
            await _stopped.Task;
        }

        _connection?.Dispose();
    }

    private TWork Enqueue<TWork>(TWork work)
        where TWork : Work
    {
        if (_onLoop)
        {
            throw new InvalidOperationException("A unit of work cannot wait for another unit while it runs on the writer.");
        }

        if (!_queue.Writer.TryWrite(work))
        {
            throw new ObjectDisposedException(nameof(Writer));
        }

        if (_thread is null)
        {
            lock (_start)
            {
                if (_thread is null)
                {
                    _thread = new Thread(Loop) { IsBackground = true, Name = "allocation-writer" };
                    _thread.Start();
                }
            }
        }

        return work;
    }

    /// <summary>
    /// Supervises the loop: nothing may stop it. A fault that escapes a group (whatever its type) fails
    /// that group's callers, the connection and its open transaction are thrown away, and the loop
    /// goes on with the next unit on a fresh connection.
    /// </summary>
    private void Loop()
    {
        var members = new List<Work>();
        while (_deferred.Count > 0 || WaitForWork())
        {
            try
            {
                RunGroup(members);
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

        _stopped.TrySetResult();
    }

    // Blocks on a kernel event rather than Task.Wait, which spins (and yields the CPU over and over)
    // before it sleeps: the loop has its own thread, and every idle moment would cost CPU time.
    private bool WaitForWork()
    {
        var ready = _queue.Reader.WaitToReadAsync();
        if (ready.IsCompleted)
        {
            return ready.Result;
        }

        var task = ready.AsTask();
        ((IAsyncResult)task).AsyncWaitHandle.WaitOne();
        return task.Result;
    }

    private void RunGroup(List<Work> members)
    {
        DbConnection connection;
        try
        {
            connection = _connection ??= _database.OpenWriter();
        }
        catch (Exception exception) when (exception is DbException or IOException or UnauthorizedAccessException or TimeoutException)
        {
            // The database cannot be opened or reached: everyone waiting is told; later work tries again.
            LogUnavailable(exception, _database.Description);
            var error = exception is DbException db && _database.Translate(db) is UnavailableException unavailable
                ? unavailable
                : new UnavailableException($"The database cannot be reached: {exception.Message}", exception);
            NoteOutage(error);
            foreach (var waiting in _deferred)
            {
                waiting.Fail(error);
            }

            _deferred.Clear();
            while (_queue.Reader.TryRead(out var queued))
            {
                queued.Fail(error);
            }

            return;
        }

        members.Clear();
        TakeGroup(members);
        if (members.Count == 0)
        {
            return;
        }

        // A unit whose group failed as a whole runs again alone, its changes written row by row, so
        // that only its own fault fails it.
        var group = new Group(_database, connection, writesAtEnd: _database.WritesAtGroupEnd && !members[0].Alone);
        try
        {
            group.Begun = true;
            group.Rows.Begin([.. members.Select(member => member.Keys)], durable: members.Exists(member => member.Durable));
        }
        catch (DbException exception)
        {
            // Another process holds the database, or it went away: the group is told, and its commands retry.
            Abandon(connection, group, members, exception);
            DropIfBroken(connection);
            return;
        }

        // The entries the group wrote to the outbox: their lanes are woken once it is committed.
        var outbox = new List<OutboxRow>();
        for (var i = 0; i < members.Count; i++)
        {
            var work = members[i];
            var unit = new WriteUnit(connection, group);
            var keep = work.Execute(unit);
            try
            {
                if (unit.HasSavepoint)
                {
                    if (keep && !unit.Deferred)
                    {
                        Execute(connection, "RELEASE unit");
                    }
                    else
                    {
                        Execute(connection, "ROLLBACK TO unit");
                        Execute(connection, "RELEASE unit");
                    }
                }
            }
            catch (DbException exception)
            {
                // The database rolled the whole transaction back (disk full, I/O error): the group is lost.
                Abandon(connection, group, members, exception);
                DropIfBroken(connection);
                return;
            }

            if (unit.Deferred)
            {
                members.RemoveAt(i--);
                _deferred.Add(work);
                continue;
            }

            if (keep && unit.Outbox is { } rows)
            {
                outbox.AddRange(rows);
            }
            work.Unit = unit;
        }

        if (group.Pending.Count > 0)
        {
            try
            {
                _database.WriteGroup(connection, group.Pending, _database.CommitStatement(wroteOutbox: outbox.Count > 0));
            }
            catch (DbException exception)
            {
                LogGroupRetriedAlone(exception, members.Count);
                try
                {
                    // A connection the server ended (a restart) cannot even be told to roll back; it is dropped below.
                    if (connection.State == System.Data.ConnectionState.Open)
                    {
                        Execute(connection, "ROLLBACK");
                    }
                }
                catch (DbException)
                {
                    // Already rolled back by the database.
                }

                DropIfBroken(connection);
                foreach (var member in members)
                {
                    member.Alone = true;
                }

                _deferred.InsertRange(0, members);
                members.Clear();
                return;
            }

            Committed(group, members, outbox);
            return;
        }

        Commit(connection, group, members, outbox);
    }

    /// <summary>
    /// The next group: units carried over first (deferred ones, in order), then the queue, up to the
    /// group's size. A unit that must run alone makes a group of its own.
    /// </summary>
    private void TakeGroup(List<Work> members)
    {
        var carried = _deferred;
        _deferred = [];
        var next = 0;
        while (members.Count < _maxGroup && (next < carried.Count ? carried[next] : _queue.Reader.TryPeek(out var queued) ? queued : null) is { } work)
        {
            if (members.Count > 0 && (work.Alone || members[0].Alone))
            {
                break;
            }

            if (next < carried.Count)
            {
                next++;
            }
            else
            {
                _queue.Reader.TryRead(out _);
            }

            if (work.Cancellation.IsCancellationRequested)
            {
                work.Fail(new OperationCanceledException(work.Cancellation));
                continue;
            }

            members.Add(work);
        }

        _deferred.AddRange(carried.Skip(next));
    }

    private void Commit(DbConnection connection, Group group, List<Work> members, List<OutboxRow> outbox)
    {
        try
        {
            Execute(connection, _database.CommitStatement(wroteOutbox: outbox.Count > 0));
        }
        catch (DbException exception)
        {
            Abandon(connection, group, members, exception);
            DropIfBroken(connection);
            return;
        }

        Committed(group, members, outbox);
    }

    private void Committed(Group group, List<Work> members, List<OutboxRow> outbox)
    {
        // Committed: the lanes are woken first, as publishing is the longer way, and handed the entries
        // when they were written row by row (which tells their ids); then every caller hears so,
        // whatever counting the events does after.
        if (outbox.Count > 0)
        {
            _signal.Committed(
                outbox.Select(row => row.Type).Distinct(StringComparer.Ordinal).ToList(),
                group.WritesAtEnd ? null : [.. outbox.Select(row => row.ToEntry())]);
        }

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
    }

    private void NoteOutage(Exception error)
    {
        if (error is UnavailableException)
        {
            Volatile.Write(ref _lastOutageBox, new OutageBox(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), error.Message));
        }
    }

    /// <summary>Throws away a connection the server is no longer on the other end of; the next group opens a new one.</summary>
    private bool DropIfBroken(DbConnection connection)
    {
        if (connection.State == System.Data.ConnectionState.Open)
        {
            return false;
        }

        connection.Dispose();
        _connection = null;
        return true;
    }

    private void Abandon(DbConnection connection, Group group, List<Work> members, DbException cause)
    {
        LogGroupFailed(cause, members.Count);
        try
        {
            if (connection.State == System.Data.ConnectionState.Open)
            {
                Execute(connection, "ROLLBACK");
            }
        }
        catch (DbException)
        {
            // The database had already rolled the transaction back.
        }

        group.Reset();
        var error = _database.Translate(cause);
        NoteOutage(error);
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

    [LoggerMessage(LogLevel.Error, "The database cannot be opened for writing ({Database})")]
    private partial void LogUnavailable(Exception exception, string database);

    [LoggerMessage(LogLevel.Error, "The writer failed while running a group of {Members} units; they were told, and it goes on with a new connection")]
    private partial void LogLoopFault(Exception exception, int members);

    [LoggerMessage(LogLevel.Warning, "A commit group of {Members} units could not write its changes together; each runs again alone")]
    private partial void LogGroupRetriedAlone(Exception exception, int members);

    [LoggerMessage(LogLevel.Error, "A commit group of {Members} units was rolled back")]
    private partial void LogGroupFailed(Exception exception, int members);

    /// <summary>
    /// One transaction of the loop: the rows its units read (<see cref="GroupRows"/>), the products it
    /// locked against other instances, and, where the database writes a group's changes at its end,
    /// those changes.
    /// </summary>
    internal sealed class Group
    {
        private readonly ISqlDatabase _database;
        private readonly DbConnection _connection;
        private readonly HashSet<string> _locked = new(StringComparer.Ordinal);

        public Group(ISqlDatabase database, DbConnection connection, bool writesAtEnd)
        {
            _database = database;
            _connection = connection;
            WritesAtEnd = writesAtEnd;
            Rows = new GroupRows(database, connection, this);
        }

        public bool Begun { get; set; }

        public GroupRows Rows { get; }

        /// <summary>Whether changes wait for the group's end (<see cref="ISqlDatabase.WriteGroup"/>) or are written as each unit commits.</summary>
        public bool WritesAtEnd { get; }

        public List<ChangeSet> Pending { get; } = [];

        public Exception Translate(DbException exception) => _database.Translate(exception);

        /// <summary>The group has locked, before anything else, every product its commands name (in one order, so groups never deadlock).</summary>
        public void Locked(IEnumerable<string> skus) => _locked.UnionWith(skus);

        /// <summary>
        /// Locks the product for this group. The group's first lock may wait, as it holds none that
        /// another instance could be waiting for; later ones do not wait, so two instances never
        /// deadlock: a unit that meets a product another instance holds is deferred to the next group.
        /// </summary>
        public bool TryLock(string sku)
        {
            if (_locked.Contains(sku))
            {
                return true;
            }

            if (!_database.LockProduct(_connection, sku, wait: _locked.Count == 0))
            {
                return false;
            }

            _locked.Add(sku);
            return true;
        }

        /// <summary>The transaction was rolled back, and its locks went with it.</summary>
        public void Reset()
        {
            Begun = false;
            _locked.Clear();
        }
    }

    /// <summary>Something to run on the writer: in a savepoint, then told the outcome after the group's commit.</summary>
    private abstract class Work(MessageKeys keys, CancellationToken cancellation)
    {
        private readonly ExecutionContext? _callerContext = ExecutionContext.Capture();

        public MessageKeys Keys { get; } = keys;

        /// <summary>Runs in a group of its own, its changes written row by row (its last group failed as a whole).</summary>
        public bool Alone { get; set; }

        /// <summary>Must be on disk before its caller hears back; a group of units that need not commits without waiting for the disk.</summary>
        public bool Durable { get; init; } = true;

        public CancellationToken Cancellation { get; } = cancellation;

        public WriteUnit? Unit { get; set; }

        /// <summary>
        /// Runs the work in the caller's execution context (its log scopes, its activity) and waits for
        /// it: the loop's thread is its own to block. Returns whether to keep the unit.
        /// </summary>
        public bool Execute(WriteUnit unit)
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

            return running.IsCompletedSuccessfully ? running.Result : running.AsTask().GetAwaiter().GetResult();
        }

        public abstract void Complete();

        public abstract void Fail(Exception exception);

        protected abstract ValueTask<bool> RunAsync(WriteUnit unit);
    }

    private sealed class RunWork<T>(MessageKeys keys, Func<WriteUnit, ValueTask<T>> work, CancellationToken cancellation) : Work(keys, cancellation)
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
            _error = null;
            try
            {
                _result = await work(unit);
            }
            catch (ProductBusyException)
            {
                unit.Defer();
            }
            catch (DbException exception)
            {
                _error = unit.Translate(exception);
            }
            catch (Exception exception)
            {
                _error = exception;
            }

            return unit.Kept;
        }
    }
}

/// <summary>
/// One unit of work's turn on the writer: it reads through its group's rows, and writes either through
/// its group (a <see cref="ChangeSet"/>) or straight on the connection, inside a savepoint of its own.
/// </summary>
public sealed class WriteUnit
{
    private readonly DbConnection _connection;
    private readonly Writer.Group _group;

    internal WriteUnit(DbConnection connection, Writer.Group group)
    {
        _connection = connection;
        _group = group;
    }

    /// <summary>The connection, for writes of the unit's own; the unit's savepoint is taken first.</summary>
    public DbConnection Connection
    {
        get
        {
            if (!HasSavepoint)
            {
                using var command = _connection.CreateCommand();
                command.CommandText = "SAVEPOINT unit";
                command.ExecuteNonQuery();
                HasSavepoint = true;
            }

            return _connection;
        }
    }

    /// <summary>Whether the unit's changes are kept when it ends.</summary>
    public bool Kept { get; private set; }

    internal bool HasSavepoint { get; private set; }

    internal GroupRows Rows => _group.Rows;

    /// <summary>The outbox entries the unit wrote, if any.</summary>
    internal List<OutboxRow>? Outbox { get; private set; }

    internal bool Deferred { get; private set; }

    /// <summary>The events the unit recorded in the outbox, counted once it is durable.</summary>
    internal List<INotification>? Events { get; private set; }

    /// <summary>Keeps the unit's changes when it ends.</summary>
    public void Keep() => Kept = true;

    /// <summary>
    /// Keeps what the unit changed: written now, in its savepoint, or with the rest of its group at the
    /// group's end; either way the units after it in the group see it at once.
    /// </summary>
    internal void Commit(ChangeSet changes)
    {
        if (_group.WritesAtEnd)
        {
            _group.Pending.Add(changes);
        }
        else
        {
            try
            {
                changes.WriteRows(Connection);
            }
            catch (DbException exception)
            {
                throw _group.Translate(exception);
            }
        }

        _group.Rows.Apply(changes);
        (Events ??= []).AddRange(changes.Events);
        if (changes.Outbox.Count > 0)
        {
            (Outbox ??= []).AddRange(changes.Outbox);
        }

        Keep();
    }

    internal Exception Translate(DbException exception) => _group.Translate(exception);

    internal void Defer()
    {
        Deferred = true;
        Kept = false;
    }
}

/// <summary>A product the unit needs is locked by another instance's transaction; the unit is run again later.</summary>
internal sealed class ProductBusyException() : Exception("Another instance holds the product; the unit runs again in the next group.");
