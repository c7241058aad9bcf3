using Microsoft.Data.Sqlite;

namespace Allocation.E2ETests.Api;

/// <summary>
/// Reads the service's database file on a connection of its own (no pool), so a test sees only what the
/// service really committed.
/// </summary>
internal sealed class Store(string filePath)
{
    private readonly string _connectionString = new SqliteConnectionStringBuilder
    {
        DataSource = filePath,
        Mode = SqliteOpenMode.ReadWrite,
        Pooling = false,
    }.ToString();

    public async Task<long> CountAsync(string sql, params (string Name, object Value)[] parameters) =>
        Convert.ToInt64(await ScalarAsync(sql, parameters), System.Globalization.CultureInfo.InvariantCulture);

    public async Task<object?> ScalarAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var result = await command.ExecuteScalarAsync();
        return result is DBNull ? null : result;
    }

    /// <summary>Each row as its columns' values, in order, for comparing whole tables before and after.</summary>
    public async Task<List<string>> RowsAsync(string sql)
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            var values = new object[reader.FieldCount];
            reader.GetValues(values);
            rows.Add(string.Join(" | ", values.Select(value => value is DBNull ? "NULL" : Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture))));
        }

        return rows;
    }

    /// <summary>The write model, whole: what "nothing changes" is checked against.</summary>
    public async Task<List<string>> SnapshotAsync() =>
    [
        .. await RowsAsync("SELECT sku, version_number FROM products ORDER BY sku"),
        .. await RowsAsync("SELECT id, reference, sku, purchased_quantity, allocated_quantity, eta FROM batches ORDER BY id"),
        .. await RowsAsync("SELECT id, orderid, sku, qty, batch_id FROM allocations ORDER BY id"),
        .. await RowsAsync("SELECT type, payload FROM outbox ORDER BY id"),
    ];
}
