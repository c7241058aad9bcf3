using System.Data.Common;
using Allocation.Application.Ports;
using Allocation.Infrastructure.Outbox;
using Dapper;
using DbUp;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Allocation.Infrastructure.Persistence.Postgres;

/// <summary>
/// PostgreSQL, for any number of instances on one database: pooled connections through one data source,
/// transaction-scoped advisory locks that keep a product to one instance's transaction at a time, a
/// session advisory lock for the lead, and <c>LISTEN/NOTIFY</c> to wake the leader's dispatcher when
/// another instance commits outbox entries.
/// </summary>
public sealed partial class PostgresDatabase : ISqlDatabase, IAsyncDisposable
{
    /// <summary>Woken by <c>NOTIFY</c> after a commit that wrote outbox entries, on whichever instance.</summary>
    internal const string OutboxChannel = "allocation_outbox";

    // Two-key advisory locks (the lead, migrations) cannot meet the products' one-key locks: PostgreSQL
    // keeps the two key spaces apart.
    private const int LockSpace = 0x616c6c6f; // "allo"
    private const int LeadLock = 1;
    private const int MigrationLock = 2;

    private readonly NpgsqlDataSource _readers;
    private readonly string _writerConnectionString;
    private readonly OutboxSignal _signal;
    private readonly ILogger<PostgresDatabase> _logger;

    public PostgresDatabase(IOptions<DatabaseOptions> options, OutboxSignal signal, ILogger<PostgresDatabase> logger)
    {
        DapperTypes.Register();
        _signal = signal;
        _logger = logger;
        var builder = Normalise(options.Value.ConnectionString);
        Description = $"PostgreSQL {builder.Host}:{builder.Port}/{builder.Database}";
        _readers = NpgsqlDataSource.Create(builder.ConnectionString);

        // The writer keeps one connection of its own; one it throws away after a fault must really close.
        _writerConnectionString = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Pooling = false }.ConnectionString;
    }

    public string Description { get; }

    public string BeginWrite(bool durable) => durable ? "BEGIN" : "BEGIN; SET LOCAL synchronous_commit TO OFF";

    public string BeginWriteApart(bool durable) => $"{BeginWrite(durable)}; SET LOCAL plan_cache_mode TO force_custom_plan";

    public string IsAnyOf(string parameter) => $"= ANY({parameter})";

    public object ListOf<T>(IEnumerable<T> values) => values.ToArray();

    public DbConnection OpenWriter()
    {
        var connection = new NpgsqlConnection(_writerConnectionString);
        connection.Open();

        // A product lock is waited for only by a group's first unit (see Writer.Group); this bounds
        // that wait should another instance hang while holding it.
        connection.Execute("SET lock_timeout = '10s'");
        return connection;
    }

    public async ValueTask<DbConnection> OpenReaderAsync(CancellationToken cancellationToken) =>
        await _readers.OpenConnectionAsync(cancellationToken);

    public DbConnection OpenReader() => _readers.OpenConnection();

    public bool ManyWriters => true;

    // Npgsql prepares the statements it sees repeatedly on each connection by itself (MaxAutoPrepare).
    public DbConnection OpenKeptReader() => OpenReader();

    public bool LockProduct(DbConnection connection, string sku, bool wait)
    {
        if (wait)
        {
            connection.Execute("SELECT pg_advisory_xact_lock(hashtextextended(@sku, 0))", new { sku });
            return true;
        }

        return connection.ExecuteScalar<bool>("SELECT pg_try_advisory_xact_lock(hashtextextended(@sku, 0))", new { sku });
    }

    public string LockProductsStatement(string parameter) =>
        $"SELECT count(pg_advisory_xact_lock(hashtextextended(sku, 0))) FROM unnest({parameter}) AS sku";

    public bool WritesAtGroupEnd => true;

    public void WriteGroup(DbConnection connection, IReadOnlyList<ChangeSet> changes, string commit) => GroupWrite.Execute(connection, changes, commit);

    // Notifications are delivered at commit: the leader's dispatcher wakes for another instance's events.
    public string CommitStatement(bool wroteOutbox) => wroteOutbox ? $"NOTIFY {OutboxChannel}; COMMIT" : "COMMIT";

    public Exception Translate(DbException exception) => exception switch
    {
        PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } =>
            new ConcurrencyException("Another writer stored the same key first.", exception),
        PostgresException { SqlState: PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.LockNotAvailable } =>
            new ConcurrencyException("Another instance holds what this write needs.", exception),
        PostgresException { SqlState: PostgresErrorCodes.DiskFull } =>
            new UnavailableException("The database cannot take writes: its disk is full.", exception),
        PostgresException { SqlState: var state } when state.StartsWith("08", StringComparison.Ordinal) || state.StartsWith("53", StringComparison.Ordinal) || state.StartsWith("57P", StringComparison.Ordinal) =>
            new UnavailableException($"The database cannot take writes: {exception.Message}", exception),
        NpgsqlException { InnerException: IOException or System.Net.Sockets.SocketException or TimeoutException } or NpgsqlException { IsTransient: true } =>
            new UnavailableException($"The database cannot be reached: {exception.Message}", exception),
        _ => exception,
    };

    /// <summary>Applies every migration not yet applied, in order; instances starting together take turns.</summary>
    public void Migrate()
    {
        using var connection = _readers.OpenConnection();
        connection.Execute("SELECT pg_advisory_lock(@space, @key)", new { space = LockSpace, key = MigrationLock });
        try
        {
            Migrations.Apply(DeployChanges.To.PostgresqlDatabase(_writerConnectionString), ".Persistence.Postgres.", Description, _logger);
        }
        finally
        {
            connection.Execute("SELECT pg_advisory_unlock(@space, @key)", new { space = LockSpace, key = MigrationLock });
        }
    }

    /// <summary>
    /// Leads while a connection of its own holds the lead's session advisory lock. PostgreSQL frees it
    /// when that session ends (the instance died, or its connection broke), and another instance takes
    /// over. The same connection listens for other instances' outbox commits.
    /// </summary>
    public async ValueTask<ILeadership?> TryLeadAsync(CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(_writerConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            if (!await connection.ExecuteScalarAsync<bool>("SELECT pg_try_advisory_lock(@space, @key)", new { space = LockSpace, key = LeadLock }))
            {
                await connection.DisposeAsync();
                return null;
            }

            connection.Notification += (_, _) => _signal.Committed();
            await connection.ExecuteAsync($"LISTEN {OutboxChannel}");
            return new SessionLease(connection, _logger);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public ValueTask DisposeAsync() => _readers.DisposeAsync();

    private static NpgsqlConnectionStringBuilder Normalise(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        builder.ApplicationName ??= "allocation";

        // Unreachable means 503 within seconds, not a request that hangs for the default 15.
        if (!connectionString.Contains("Timeout", StringComparison.OrdinalIgnoreCase))
        {
            builder.Timeout = 3;
        }

        // Statements prepared once per connection and reused: the shared SQL is a small fixed set.
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 64;
            builder.AutoPrepareMinUsages = 2;
        }

        return builder;
    }

    [LoggerMessage(LogLevel.Warning, "The lead's connection to the database broke: {Reason}")]
    private static partial void LogLeaseBroken(ILogger logger, string reason);

    /// <summary>The lead, held by a session; watched (and notifications received) by waiting on it.</summary>
    private sealed class SessionLease : ILeadership
    {
        private readonly NpgsqlConnection _connection;
        private readonly CancellationTokenSource _lost = new();
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _watch;

        public SessionLease(NpgsqlConnection connection, ILogger logger)
        {
            _connection = connection;
            _watch = WatchAsync(logger);
        }

        public CancellationToken Lost => _lost.Token;

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _watch;
            await _connection.DisposeAsync();
            _lost.Dispose();
            _stop.Dispose();
        }

        // Waiting delivers notifications; a broken session surfaces here, within a second.
        private async Task WatchAsync(ILogger logger)
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    if (!await _connection.WaitAsync(TimeSpan.FromSeconds(1), _stop.Token))
                    {
                        await _connection.ExecuteAsync("SELECT 1");
                    }
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
            catch (Exception exception)
            {
                LogLeaseBroken(logger, exception.Message);
                await _lost.CancelAsync();
            }
        }
    }
}
