using System.Data.Common;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Allocation.Benchmarks.Chaos;

/// <param name="LastChange">The id of the last inbound stream entry applied to the batch, if any.</param>
internal sealed record BatchRow(long Id, string Reference, string Sku, int Purchased, int Allocated, string? LastChange);

internal sealed record LineRow(long Id, string OrderId, string Sku, int Qty, long BatchId);

/// <summary>An outbox entry, its payload read: Allocated, Deallocated and LineCancelled name a line; OutOfStock a SKU.</summary>
internal sealed record OutboxRow(
    long Id, string MessageId, string Type, string Payload, long? DispatchedAt, int Attempts, int Failures, string? LastError,
    string? OrderId, string? Sku, int? Qty, string? BatchRef)
{
    public override string ToString() =>
        $"outbox #{Id} {Type} {MessageId} {Payload} (dispatched {(DispatchedAt is null ? "no" : "yes")}, attempts {Attempts}, failures {Failures}{(LastError is null ? "" : $", last error: {LastError}")})";
}

internal sealed record DeadLetterRow(long Id, string Source, string? MessageId, string Error, string Payload);

/// <summary>What the database holds, read straight from its tables, not through the service.</summary>
internal sealed record Tables(
    IReadOnlyList<BatchRow> Batches, IReadOnlyList<LineRow> Lines, IReadOnlyList<OutboxRow> Outbox, IReadOnlyList<DeadLetterRow> DeadLetters);

/// <summary>Reads the service's tables directly: SQLite through Microsoft.Data.Sqlite, PostgreSQL through Npgsql (the same SQL).</summary>
internal sealed class TableReader(Func<DbConnection> open)
{
    public static TableReader Sqlite(string file) =>
        new(() => new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ConnectionString));

    public static TableReader Postgres(string connectionString) =>
        new(() => new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = 3 }.ConnectionString));

    /// <summary>Outbox entries not yet dispatched (sent or given up).</summary>
    public async Task<long> PendingAsync()
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM outbox WHERE dispatched_at IS NULL";
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<Tables> ReadAsync()
    {
        await using var connection = await OpenAsync();

        // One snapshot for all four tables, so that batches, lines and events agree with each other.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead);
        var batches = await QueryAsync(connection, transaction, "SELECT id, reference, sku, purchased_quantity, allocated_quantity, last_change FROM batches", row =>
            new BatchRow(
                row.GetInt64(0), row.GetString(1), row.GetString(2), Convert.ToInt32(row.GetValue(3)), Convert.ToInt32(row.GetValue(4)), row.IsDBNull(5) ? null : row.GetString(5)));
        var lines = await QueryAsync(connection, transaction, "SELECT id, orderid, sku, qty, batch_id FROM allocations", row =>
            new LineRow(row.GetInt64(0), row.GetString(1), row.GetString(2), Convert.ToInt32(row.GetValue(3)), row.GetInt64(4)));
        var outbox = await QueryAsync(
            connection,
            transaction,
            "SELECT id, message_id, type, payload, dispatched_at, attempts, failures, last_error FROM outbox ORDER BY id",
            row => Outbox(
                row.GetInt64(0), row.GetString(1), row.GetString(2), row.GetString(3), row.IsDBNull(4) ? null : row.GetInt64(4),
                Convert.ToInt32(row.GetValue(5)), Convert.ToInt32(row.GetValue(6)), row.IsDBNull(7) ? null : row.GetString(7)));
        var deadLetters = await QueryAsync(connection, transaction, "SELECT id, source, message_id, error, payload FROM dead_letters ORDER BY id", row =>
            new DeadLetterRow(row.GetInt64(0), row.GetString(1), row.IsDBNull(2) ? null : row.GetString(2), row.GetString(3), row.GetString(4)));
        await transaction.CommitAsync();
        return new Tables(batches, lines, outbox, deadLetters);
    }

    private async Task<DbConnection> OpenAsync()
    {
        var connection = open();
        await connection.OpenAsync();
        return connection;
    }

    private static async Task<List<T>> QueryAsync<T>(DbConnection connection, DbTransaction transaction, string sql, Func<DbDataReader, T> map)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    // Payloads are the events as the service serialises them (camelCase): {"orderId", "sku", "qty", "batchReference"}.
    private static OutboxRow Outbox(long id, string messageId, string type, string payload, long? dispatchedAt, int attempts, int failures, string? lastError)
    {
        string? orderId = null, sku = null, batchRef = null;
        int? qty = null;
        try
        {
            using var document = JsonDocument.Parse(payload);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                switch (property.Name.ToLowerInvariant())
                {
                    case "orderid": orderId = property.Value.GetString(); break;
                    case "sku": sku = property.Value.GetString(); break;
                    case "qty": qty = property.Value.GetInt32(); break;
                    case "batchreference" or "batchref": batchRef = property.Value.GetString(); break;
                }
            }
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException)
        {
        }

        return new OutboxRow(id, messageId, type, payload, dispatchedAt, attempts, failures, lastError, orderId, sku, qty, batchRef);
    }
}
