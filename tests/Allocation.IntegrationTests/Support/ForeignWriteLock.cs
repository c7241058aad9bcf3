using Allocation.Testing;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Allocation.IntegrationTests.Support;

/// <summary>The database's write lock, held by a connection outside the service until disposed.</summary>
internal sealed class ForeignWriteLock : IDisposable
{
    private readonly SqliteConnection _connection;

    public ForeignWriteLock(TestDatabase database)
    {
        _connection = database.OpenFresh();
        _connection.Execute("BEGIN IMMEDIATE");
    }

    public void Dispose()
    {
        _connection.Execute("ROLLBACK");
        _connection.Dispose();
    }
}
