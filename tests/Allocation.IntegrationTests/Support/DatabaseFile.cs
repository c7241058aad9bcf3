using Dapper;

namespace Allocation.IntegrationTests.Support;

/// <summary>Looks at the database from outside the service, the way another process would.</summary>
internal static class DatabaseFile
{
    public static List<T> Query<T>(this TestStore database, string sql, object? parameters = null)
    {
        using var connection = database.OpenFresh();
        return connection.Query<T>(sql, parameters).AsList();
    }

    public static T Scalar<T>(this TestStore database, string sql, object? parameters = null)
    {
        using var connection = database.OpenFresh();
        return connection.ExecuteScalar<T>(sql, parameters)!;
    }

    public static void Execute(this TestStore database, string sql, object? parameters = null)
    {
        using var connection = database.OpenFresh();
        connection.Execute(sql, parameters);
    }

    public static int VersionOf(this TestStore database, string sku) =>
        database.Scalar<int>("SELECT version_number FROM products WHERE sku = @sku", new { sku });

    public static int AllocatedQuantityOf(this TestStore database, string reference) =>
        database.Scalar<int>("SELECT allocated_quantity FROM batches WHERE reference = @reference", new { reference });

    /// <summary>The stored allocations as (orderid, batch reference), in the order they were made.</summary>
    public static List<(string OrderId, string BatchRef)> Allocations(this TestStore database) =>
        database.Query<(string, string)>(
            "SELECT a.orderid, b.reference FROM allocations a JOIN batches b ON b.id = a.batch_id ORDER BY a.id");

    public static List<(string Source, string Payload, string Error, string? MessageId)> DeadLetters(this TestStore database) =>
        database.Query<(string, string, string, string?)>("SELECT source, payload, error, message_id FROM dead_letters ORDER BY id");

    public static List<OutboxRow> Outbox(this TestStore database) =>
        database.Query<OutboxRow>(
            """
            SELECT id AS Id, message_id AS MessageId, type AS Type, payload AS Payload, attempts AS Attempts,
                   failures AS Failures, last_error AS LastError, dispatched_at AS DispatchedAt
            FROM outbox ORDER BY id
            """);
}

internal sealed class OutboxRow
{
    public long Id { get; init; }

    public string MessageId { get; init; } = "";

    public string Type { get; init; } = "";

    public string Payload { get; init; } = "";

    public int Attempts { get; init; }

    public int Failures { get; init; }

    public string? LastError { get; init; }

    public long? DispatchedAt { get; init; }
}
