using System.Data.Common;
using Allocation.Application.Ports;
using Dapper;
using DbUp;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Allocation.Infrastructure.Persistence.Sqlite;

/// <summary>
/// The database file: connections to it, its schema (migrated at start-up), and its one writer. WAL mode:
/// readers never wait for the writer. A relative path is under the service's own folder (its content
/// root), so it does not depend on the working directory.
/// </summary>
public sealed partial class SqliteDatabase : ISqlDatabase
{
    private const int ReadOnly = 8;
    private const int IoError = 10;
    private const int Full = 13;
    private const int CannotOpen = 14;
    private const int Busy = 5;
    private const int Locked = 6;
    private const int ConstraintPrimaryKey = 1555;
    private const int ConstraintUnique = 2067;

    private readonly SqliteOptions _options;
    private readonly ILogger<SqliteDatabase> _logger;
    private readonly string _connectionString;

    // Not pooled: the writer keeps its one connection, and one it throws away after a fault must really
    // close, so that SQLite rolls back whatever transaction it had open.
    private readonly string _writerConnectionString;

    public SqliteDatabase(IOptions<DatabaseOptions> database, IOptions<SqliteOptions> options, ILogger<SqliteDatabase> logger, IHostEnvironment? environment = null)
    {
        DapperTypes.Register();
        _options = options.Value;
        _logger = logger;
        var builder = new SqliteConnectionStringBuilder(database.Value.ConnectionString)
        {
            Pooling = true,

            // Microsoft.Data.Sqlite retries a locked database on its own until this many seconds pass;
            // SQLite's busy_timeout already waited, so keep that second loop short.
            DefaultTimeout = Math.Max(1, _options.BusyTimeoutMs / 1000),
        };
        if (builder.DataSource is not ("" or ":memory:") && builder.Mode != SqliteOpenMode.Memory)
        {
            builder.DataSource = Path.GetFullPath(builder.DataSource, environment?.ContentRootPath ?? AppContext.BaseDirectory);
        }

        FilePath = builder.DataSource;
        _connectionString = builder.ToString();
        _writerConnectionString = new SqliteConnectionStringBuilder(_connectionString) { Pooling = false }.ToString();
    }

    // In pages of the default size (4 KiB): near enough for a limit.
    private long WalLimitBytes => _options.WalLimitMb * 1024L * 1024L;

    /// <summary>The database file's full path.</summary>
    public string FilePath { get; }

    public string Description => $"SQLite {FilePath}";

    // synchronous cannot change inside a transaction, so it is set before each one. The next durable
    // commit's fsync of the log takes the earlier, unsynced commits with it.
    public string BeginWrite(bool durable) =>
        !durable && _options.Synchronous > SynchronousMode.Normal
            ? "PRAGMA synchronous = NORMAL; BEGIN IMMEDIATE"
            : $"PRAGMA synchronous = {_options.Synchronous.ToString().ToUpperInvariant()}; BEGIN IMMEDIATE";

    // One writer per file: nothing is written apart from it (ManyWriters is false).
    public string BeginWriteApart(bool durable) => BeginWrite(durable);

    public string IsAnyOf(string parameter) => $"IN (SELECT value FROM json_each({parameter}))";

    public object ListOf<T>(IEnumerable<T> values) => System.Text.Json.JsonSerializer.Serialize(values);

    public DbConnection OpenWriter()
    {
        var connection = new SqliteConnection(_writerConnectionString);
        connection.Open();
        using var pragmas = connection.CreateCommand();
        pragmas.CommandText = $"""
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = {_options.Synchronous.ToString().ToUpperInvariant()};
            PRAGMA busy_timeout = {_options.BusyTimeoutMs};
            PRAGMA foreign_keys = ON;
            PRAGMA wal_autocheckpoint = {WalLimitBytes / 4096};
            PRAGMA journal_size_limit = {WalLimitBytes};
            """;
        pragmas.ExecuteNonQuery();
        return new PreparedConnection(connection);
    }

    /// <summary>The connection that checkpoints the log (<see cref="Checkpointer"/>), with the writer's durability.</summary>
    public DbConnection OpenCheckpointer()
    {
        var connection = new SqliteConnection(_writerConnectionString);
        connection.Open();
        using var pragmas = connection.CreateCommand();
        pragmas.CommandText = $"PRAGMA synchronous = {_options.Synchronous.ToString().ToUpperInvariant()}; PRAGMA busy_timeout = {_options.BusyTimeoutMs};";
        pragmas.ExecuteNonQuery();
        return connection;
    }

    public ValueTask<DbConnection> OpenReaderAsync(CancellationToken cancellationToken) => ValueTask.FromResult(OpenReader());

    public DbConnection OpenReader()
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public bool ManyWriters => false;

    public DbConnection OpenKeptReader() => new PreparedConnection((SqliteConnection)OpenReader());

    // One writer at a time already: BEGIN IMMEDIATE holds the whole file's write lock.
    public bool LockProduct(DbConnection connection, string sku, bool wait) => true;

    public string? LockProductsStatement(string parameter) => null;

    // In-process statements cost microseconds: each unit's changes are written as it commits.
    public bool WritesAtGroupEnd => false;

    public void WriteGroup(DbConnection connection, IReadOnlyList<ChangeSet> changes, string commit)
    {
        foreach (var change in changes)
        {
            change.WriteRows(connection);
        }

        connection.Execute(commit);
    }

    public string CommitStatement(bool wroteOutbox) => "COMMIT";

    public Exception Translate(DbException exception) => exception switch
    {
        SqliteException { SqliteErrorCode: Busy or Locked } =>
            new ConcurrencyException("The database is locked by another writer.", exception),
        SqliteException { SqliteExtendedErrorCode: ConstraintUnique or ConstraintPrimaryKey } =>
            new ConcurrencyException("Another writer stored the same key first.", exception),
        SqliteException { SqliteErrorCode: Full } =>
            new UnavailableException("The database cannot take writes: its disk is full.", exception),
        SqliteException { SqliteErrorCode: IoError or ReadOnly or CannotOpen } =>
            new UnavailableException($"The database cannot take writes: {exception.Message}", exception),
        _ => exception,
    };

    /// <summary>Creates the file's folder and applies every migration not yet applied, in order.</summary>
    public void Migrate()
    {
        var folder = Path.GetDirectoryName(FilePath);
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        // WAL is a property of the file; set it before the first migration opens a transaction.
        using (OpenWriter())
        {
        }

        Migrations.Apply(DeployChanges.To.SqliteDatabase(_connectionString), ".Persistence.Migrations.", FilePath, _logger);
    }

    /// <summary>
    /// Leads while it holds an exclusive lock on a file beside the database (<c>flock</c> on Linux):
    /// a second instance on the same file serves HTTP and writes correctly, but only one dispatches
    /// the outbox and consumes pub/sub; when the leader's process ends, the OS frees the lock and
    /// another instance takes over.
    /// </summary>
    public ValueTask<ILeadership?> TryLeadAsync(CancellationToken cancellationToken)
    {
        if (FilePath is "" or ":memory:")
        {
            return ValueTask.FromResult<ILeadership?>(new FileLease(null));
        }

        try
        {
            var file = new FileStream($"{FilePath}.leader", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            return ValueTask.FromResult<ILeadership?>(new FileLease(file));
        }
        catch (IOException)
        {
            return ValueTask.FromResult<ILeadership?>(null);
        }
    }

    private sealed class FileLease(FileStream? file) : ILeadership
    {
        public CancellationToken Lost => CancellationToken.None;

        public ValueTask DisposeAsync() => file?.DisposeAsync() ?? ValueTask.CompletedTask;
    }
}
