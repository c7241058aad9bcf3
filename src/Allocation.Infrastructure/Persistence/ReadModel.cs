using System.Globalization;
using Allocation.Application.Ports;
using Dapper;

namespace Allocation.Infrastructure.Persistence;

/// <summary>Read routes query committed data on pooled reader connections, never the writer.</summary>
internal sealed class ReadModel(ISqlDatabase database) : IReadModel
{
    public ValueTask<IReadOnlyList<OrderAllocation>> AllocationsForOrderAsync(string orderId, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<OrderAllocation>>(
            async connection => (await connection.QueryAsync<OrderAllocation>(
                "SELECT sku AS Sku, batchref AS BatchRef FROM allocations_view WHERE orderid = @orderId ORDER BY sku",
                new { orderId })).AsList(),
            cancellationToken);

    public ValueTask<ProductStock?> ProductAsync(string sku, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async connection =>
            {
                var version = await connection.QuerySingleOrDefaultAsync<int?>("SELECT version_number FROM products WHERE sku = @sku", new { sku });
                if (version is null)
                {
                    return null;
                }

                // The domain's preference: in the warehouse (no eta) first, then by eta, ties in the order added.
                var batches = await connection.QueryAsync<BatchRow>(
                    """
                    SELECT reference AS Reference, eta AS Eta, purchased_quantity AS Purchased, allocated_quantity AS Allocated
                    FROM batches WHERE sku = @sku ORDER BY eta IS NOT NULL, eta, id
                    """,
                    new { sku });
                return new ProductStock(sku, version.Value, batches.Select(row => row.ToStock()).ToList());
            },
            cancellationToken);

    public async ValueTask<Page<ProductTotals>> ProductsAsync(string? after, int limit, CancellationToken cancellationToken)
    {
        var rows = await database.ReadAsync(async connection => (await connection.QueryAsync<TotalsRow>(
            """
            SELECT p.sku AS Sku, p.version_number AS Version, count(b.id) AS Batches,
                   coalesce(sum(b.purchased_quantity), 0) AS Purchased, coalesce(sum(b.allocated_quantity), 0) AS Allocated
            FROM products p LEFT JOIN batches b ON b.sku = p.sku
            WHERE p.sku > @after
            GROUP BY p.sku ORDER BY p.sku LIMIT @take
            """,
            new { after = after ?? "", take = limit + 1 }))
            .Select(row => new ProductTotals(row.Sku, row.Version, (int)row.Batches, row.Purchased, row.Allocated))
            .ToList(), cancellationToken);
        return PageOf(rows, limit, last => last.Sku);
    }

    public ValueTask<BatchLines?> BatchAsync(string reference, long? after, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
    {
        var batch = await connection.QuerySingleOrDefaultAsync<BatchRow>(
            """
            SELECT id AS Id, sku AS Sku, reference AS Reference, eta AS Eta, purchased_quantity AS Purchased, allocated_quantity AS Allocated
            FROM batches WHERE reference = @reference
            """,
            new { reference });
        if (batch is null)
        {
            return null;
        }

        var lines = (await connection.QueryAsync<LineRow>(
            "SELECT id AS Id, orderid AS OrderId, qty AS Qty FROM allocations WHERE batch_id = @Id AND id > @after ORDER BY id LIMIT @take",
            new { batch.Id, after = after ?? 0, take = limit + 1 }))
            .Select(row => new AllocatedLine(row.Id, row.OrderId, row.Qty))
            .ToList();
        var page = PageOf(lines, limit, last => last.Id.ToString(CultureInfo.InvariantCulture));
        return (BatchLines?)new BatchLines(batch.ToStock(), batch.Sku, page);
    },
        cancellationToken);

    /// <summary>Rows were read with one extra: its presence says there is a next page.</summary>
    internal static Page<T> PageOf<T>(List<T> rows, int limit, Func<T, string> cursor)
    {
        if (rows.Count <= limit)
        {
            return new Page<T>(rows, null);
        }

        rows.RemoveAt(rows.Count - 1);
        return new Page<T>(rows, cursor(rows[^1]));
    }

    private sealed class TotalsRow
    {
        public string Sku { get; init; } = "";

        public int Version { get; init; }

        public long Batches { get; init; }

        public long Purchased { get; init; }

        public long Allocated { get; init; }
    }

    private sealed class LineRow
    {
        public long Id { get; init; }

        public string OrderId { get; init; } = "";

        public int Qty { get; init; }
    }

    private sealed class BatchRow
    {
        public long Id { get; init; }

        public string Sku { get; init; } = "";

        public string Reference { get; init; } = "";

        public DateOnly? Eta { get; init; }

        public int Purchased { get; init; }

        public int Allocated { get; init; }

        public BatchStock ToStock() => new(Reference, Eta, Purchased, Allocated);
    }
}
