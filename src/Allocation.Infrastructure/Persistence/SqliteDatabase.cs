using System.Reflection;
using DbUp;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Allocation.Infrastructure.Persistence;

/// <summary>The database file: connections to it, and its schema, migrated at start-up.</summary>
public sealed partial class SqliteDatabase(IOptions<SqliteOptions> options, ILogger<SqliteDatabase> logger)
{
    private readonly SqliteOptions _options = options.Value;
    private readonly string _connectionString = Normalise(options.Value);

    // Not pooled: the writer keeps its one connection, and one it throws away after a fault must really
    // close, so that SQLite rolls back whatever transaction it had open.
    private readonly string _writerConnectionString = new SqliteConnectionStringBuilder(Normalise(options.Value)) { Pooling = false }.ToString();

    public string ConnectionString => _connectionString;

    /// <summary>A pooled connection for reads; in WAL mode readers never wait for the writer.</summary>
    public SqliteConnection OpenReader()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    /// <summary>A connection with the durability and locking settings every writer uses.</summary>
    public SqliteConnection OpenWriter()
    {
        var connection = new SqliteConnection(_writerConnectionString);
        connection.Open();
        using var pragmas = connection.CreateCommand();
        pragmas.CommandText = $"""
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = {_options.Synchronous.ToString().ToUpperInvariant()};
            PRAGMA busy_timeout = {_options.BusyTimeoutMs};
            PRAGMA foreign_keys = ON;
            """;
        pragmas.ExecuteNonQuery();
        return connection;
    }

    /// <summary>Creates the file's folder and applies every migration not yet applied, in order.</summary>
    public void Migrate()
    {
        var dataSource = new SqliteConnectionStringBuilder(_connectionString).DataSource;
        var folder = Path.GetDirectoryName(dataSource);
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        // WAL is a property of the file; set it before the first migration opens a transaction.
        using (OpenWriter())
        {
        }

        var upgrade = DeployChanges.To
            .SqliteDatabase(_connectionString)
            .WithScriptsEmbeddedInAssembly(Assembly.GetExecutingAssembly(), name => name.Contains(".Persistence.Migrations.", StringComparison.Ordinal))
            .WithTransactionPerScript()
            .LogToNowhere()
            .Build();

        var pending = upgrade.GetScriptsToExecute();
        var result = upgrade.PerformUpgrade();
        if (!result.Successful)
        {
            throw new InvalidOperationException($"Migrating {dataSource} failed at {result.ErrorScript?.Name}: {result.Error.Message}", result.Error);
        }

        LogMigrated(dataSource, pending.Count, string.Join(", ", pending.Select(script => script.Name)));
    }

    private static string Normalise(SqliteOptions options)
    {
        var builder = new SqliteConnectionStringBuilder(options.ConnectionString)
        {
            Pooling = true,
            // Microsoft.Data.Sqlite retries a locked database on its own until this many seconds pass;
            // SQLite's busy_timeout already waited, so keep that second loop short.
            DefaultTimeout = Math.Max(1, options.BusyTimeoutMs / 1000),
        };
        if (builder.DataSource is not ("" or ":memory:") && builder.Mode != SqliteOpenMode.Memory)
        {
            builder.DataSource = Path.GetFullPath(builder.DataSource);
        }

        return builder.ToString();
    }

    [LoggerMessage(LogLevel.Information, "Database {DataSource} is up to date ({Applied} migrations applied now: {Scripts})")]
    private partial void LogMigrated(string dataSource, int applied, string scripts);
}
