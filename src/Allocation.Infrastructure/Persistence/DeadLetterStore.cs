using Dapper;
using Microsoft.Data.Sqlite;

namespace Allocation.Infrastructure.Persistence;

/// <summary>Durable record of every message the service refused, with why, for operators to inspect and replay.</summary>
public sealed class DeadLetterStore(SqliteWriter writer, TimeProvider time)
{
    public async ValueTask RecordAsync(string source, string payload, string error, CancellationToken cancellationToken)
    {
        var unit = await writer.BeginAsync(cancellationToken);
        try
        {
            Record(unit.Connection, source, payload, error);
        }
        catch
        {
            unit.Rollback();
            throw;
        }

        await unit.CommitAsync();
    }

    internal void Record(SqliteConnection connection, string source, string payload, string error) =>
        connection.Execute(
            "INSERT INTO dead_letters (source, payload, error, created_at) VALUES (@source, @payload, @error, @createdAt)",
            new { source, payload, error, createdAt = time.GetUtcNow().ToString("O") });
}
