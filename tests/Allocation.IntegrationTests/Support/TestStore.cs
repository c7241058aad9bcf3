using System.Data.Common;
using Allocation.Testing;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Allocation.IntegrationTests.Support;

/// <summary>The databases every shared persistence test runs on.</summary>
public static class Providers
{
    public const string Sqlite = "Sqlite";
    public const string Postgres = "Postgres";

    public static readonly string[] All = [Sqlite, Postgres];
}

/// <summary>
/// A fresh database for one test, a SQLite file or a PostgreSQL database, looked at from outside the
/// service the way another process would; deleted after the test.
/// </summary>
internal abstract class TestStore : IAsyncDisposable
{
    public abstract string Provider { get; }

    public abstract string ConnectionString { get; }

    public static async Task<TestStore> CreateAsync(string provider) => provider switch
    {
        Providers.Sqlite => new SqliteStore(new TestDatabase()),
        Providers.Postgres => await PostgresStore.CreateAsync(),
        _ => throw new ArgumentOutOfRangeException(nameof(provider), provider, "No such provider."),
    };

    /// <summary>A brand-new, unpooled connection: it shares nothing with the service's connections.</summary>
    public abstract DbConnection OpenFresh();

    /// <summary>Makes inserts into <paramref name="table"/> fail while <paramref name="condition"/> (on <c>NEW</c>) holds.</summary>
    public abstract void RefuseInserts(string name, string table, string condition);

    public abstract void AllowInserts(string name, string table);

    /// <summary>Holds every write off the data until disposed, as another process in the middle of a write would.</summary>
    public abstract IDisposable HoldWrites();

    public abstract ValueTask DisposeAsync();

    private sealed class SqliteStore(TestDatabase file) : TestStore
    {
        public override string Provider => Providers.Sqlite;

        public override string ConnectionString => file.ConnectionString;

        public override DbConnection OpenFresh()
        {
            var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file.FilePath, Pooling = false }.ToString());
            connection.Open();
            return connection;
        }

        public override void RefuseInserts(string name, string table, string condition) =>
            this.Execute($"CREATE TRIGGER {name} BEFORE INSERT ON {table} WHEN {condition} BEGIN SELECT RAISE(ABORT, 'refused'); END");

        public override void AllowInserts(string name, string table) => this.Execute($"DROP TRIGGER {name}");

        public override IDisposable HoldWrites() => new HeldTransaction(OpenFresh(), "BEGIN IMMEDIATE");

        public override ValueTask DisposeAsync()
        {
            file.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private sealed class PostgresStore(PostgresTestServer server, string connectionString) : TestStore
    {
        public override string Provider => Providers.Postgres;

        public override string ConnectionString => connectionString;

        public static async Task<TestStore> CreateAsync()
        {
            var server = await PostgresTestServer.SharedAsync();
            return new PostgresStore(server, await server.CreateDatabaseAsync());
        }

        public override DbConnection OpenFresh()
        {
            var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
            connection.Open();
            return connection;
        }

        public override void RefuseInserts(string name, string table, string condition) =>
            this.Execute($"""
                CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF {condition} THEN RAISE EXCEPTION 'refused'; END IF;
                    RETURN NEW;
                END $$;
                CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {name}();
                """);

        public override void AllowInserts(string name, string table) => this.Execute($"DROP TRIGGER {name} ON {table}; DROP FUNCTION {name}();");

        // Reads go on; every write to the data waits.
        public override IDisposable HoldWrites() =>
            new HeldTransaction(OpenFresh(), "BEGIN; LOCK TABLE products, batches, allocations, outbox IN EXCLUSIVE MODE");

        public override async ValueTask DisposeAsync() => await server.DropDatabaseAsync(connectionString);
    }

    private sealed class HeldTransaction : IDisposable
    {
        private readonly DbConnection _connection;

        public HeldTransaction(DbConnection connection, string begin)
        {
            _connection = connection;
            _connection.Execute(begin);
        }

        public void Dispose()
        {
            _connection.Execute("ROLLBACK");
            _connection.Dispose();
        }
    }
}
