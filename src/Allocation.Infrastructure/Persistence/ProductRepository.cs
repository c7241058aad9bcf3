using System.Data.Common;
using Allocation.Application.Ports;
using Allocation.Domain;
using Allocation.Infrastructure.Outbox;
using Dapper;

namespace Allocation.Infrastructure.Persistence;

/// <summary>
/// Loads products with only the lines a command needs, remembers what it loaded, and on commit writes
/// the difference. Every product is locked against other instances before it is read
/// (<see cref="WriteUnit.LockProduct"/>), so what a unit read stays true until its group commits. SQL
/// runs synchronously on the writer's own thread; the statements serve both databases.
/// </summary>
internal sealed class ProductRepository(UnitOfWork uow) : IProductRepository
{
    // Lines of a shrinking batch are read newest first, this many at a time, until enough are freed.
    private const int LinePage = 64;

    private readonly Dictionary<string, Loaded> _loaded = new(StringComparer.Ordinal);

    public bool HasTracked => _loaded.Count > 0;

    public ValueTask<Product?> GetAsync(string sku, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Load(sku, _ => []));

    public ValueTask<Product?> GetForOrderLineAsync(string sku, string orderId, CancellationToken cancellationToken)
    {
        if (_loaded.TryGetValue(sku, out var loaded))
        {
            return ValueTask.FromResult<Product?>(loaded.Product);
        }

        uow.Unit.LockProduct(sku);
        var line = uow.Connection.QuerySingleOrDefault<LineRow>(
            "SELECT orderid AS OrderId, qty AS Qty, batch_id AS BatchId FROM allocations WHERE orderid = @orderId AND sku = @sku",
            new { orderId, sku });
        return ValueTask.FromResult(Load(sku, batch => line is not null && line.BatchId == batch.Id ? [line] : []));
    }

    public ValueTask<Product?> GetForBatchChangeAsync(string reference, int newQty, CancellationToken cancellationToken)
    {
        // A batch never changes SKU, so its SKU can be read before the product is locked.
        var sku = SkuOfBatch(reference);
        if (sku is null)
        {
            return ValueTask.FromResult<Product?>(null);
        }

        uow.Unit.LockProduct(sku);
        var connection = uow.Connection;
        var target = connection.QuerySingle<BatchRow>($"SELECT {BatchColumns} FROM batches WHERE reference = @reference", new { reference });

        // Only the most recent lines that the new quantity no longer covers, newest first until enough
        // quantity is freed.
        var excess = target.AllocatedQuantity - newQty;
        var lines = new List<LineRow>();
        for (var (freed, before) = (0, long.MaxValue); freed < excess;)
        {
            var page = connection.Query<LineRow>(
                "SELECT id AS Id, orderid AS OrderId, qty AS Qty, batch_id AS BatchId FROM allocations WHERE batch_id = @Id AND id < @before ORDER BY id DESC LIMIT @take",
                new { target.Id, before, take = LinePage }).AsList();
            foreach (var line in page)
            {
                lines.Add(line);
                freed += line.Qty;
                if (freed >= excess)
                {
                    break;
                }
            }

            if (page.Count < LinePage)
            {
                break;
            }

            before = page[^1].Id;
        }

        lines.Reverse();
        return ValueTask.FromResult(Load(sku, batch => batch.Id == target.Id ? lines : []));
    }

    public ValueTask<string?> FindSkuOfBatchAsync(string reference, CancellationToken cancellationToken) =>
        ValueTask.FromResult(SkuOfBatch(reference));

    public void Add(Product product)
    {
        uow.Unit.LockProduct(product.Sku);
        if (!_loaded.TryAdd(product.Sku, new Loaded(product, IsNew: true, product.VersionNumber, [])))
        {
            throw new InvalidOperationException($"Product {product.Sku} is already part of this unit of work.");
        }
    }

    public void Clear() => _loaded.Clear();

    /// <summary>Writes what changed since loading: deletions first, so that a line can change batch.</summary>
    public void Persist(DbConnection connection, OutboxWriter outbox)
    {
        foreach (var (product, isNew, loadedVersion, batches) in _loaded.Values)
        {
            if (isNew)
            {
                connection.Execute(
                    "INSERT INTO products (sku, version_number) VALUES (@Sku, @VersionNumber)",
                    new { product.Sku, product.VersionNumber });
            }
            else if (product.VersionNumber != loadedVersion)
            {
                var updated = connection.Execute(
                    "UPDATE products SET version_number = @VersionNumber WHERE sku = @Sku AND version_number = @loadedVersion",
                    new { product.Sku, product.VersionNumber, loadedVersion });
                if (updated == 0)
                {
                    throw new ConcurrencyException($"Product {product.Sku} is no longer at version {loadedVersion}.");
                }
            }

            foreach (var batch in product.Batches)
            {
                if (batches.TryGetValue(batch.Reference, out var stored))
                {
                    foreach (var orderId in stored.OrderIds)
                    {
                        if (!batch.Allocations.Any(line => line.OrderId == orderId))
                        {
                            connection.Execute(
                                "DELETE FROM allocations WHERE orderid = @orderId AND sku = @Sku", new { orderId, product.Sku });
                        }
                    }
                }
            }

            foreach (var batch in product.Batches)
            {
                batches.TryGetValue(batch.Reference, out var stored);
                var batchId = stored?.Id ?? connection.ExecuteScalar<long>(
                    """
                    INSERT INTO batches (reference, sku, purchased_quantity, allocated_quantity, eta, last_change)
                    VALUES (@Reference, @Sku, @PurchasedQuantity, @AllocatedQuantity, @Eta, @lastChange) RETURNING id
                    """,
                    new { batch.Reference, batch.Sku, batch.PurchasedQuantity, batch.AllocatedQuantity, batch.Eta, lastChange = batch.LastChange?.ToString() });

                if (stored is not null && (stored.PurchasedQuantity != batch.PurchasedQuantity || stored.AllocatedQuantity != batch.AllocatedQuantity || stored.LastChange != batch.LastChange))
                {
                    connection.Execute(
                        "UPDATE batches SET purchased_quantity = @PurchasedQuantity, allocated_quantity = @AllocatedQuantity, last_change = @lastChange WHERE id = @batchId",
                        new { batch.PurchasedQuantity, batch.AllocatedQuantity, lastChange = batch.LastChange?.ToString(), batchId });
                }

                foreach (var line in batch.Allocations)
                {
                    if (stored is null || !stored.OrderIds.Contains(line.OrderId))
                    {
                        connection.Execute(
                            "INSERT INTO allocations (orderid, sku, qty, batch_id) VALUES (@OrderId, @Sku, @Qty, @batchId)",
                            new { line.OrderId, line.Sku, line.Qty, batchId });
                    }
                }
            }

            outbox.Append(connection, product.Events);
            product.ClearEvents();
        }
    }

    private const string BatchColumns =
        "id AS Id, reference AS Reference, sku AS Sku, purchased_quantity AS PurchasedQuantity, allocated_quantity AS AllocatedQuantity, eta AS Eta, last_change AS LastChange";

    private string? SkuOfBatch(string reference) =>
        uow.Connection.QuerySingleOrDefault<string>("SELECT sku FROM batches WHERE reference = @reference", new { reference });

    private Product? Load(string sku, Func<BatchRow, IReadOnlyList<LineRow>> linesOf)
    {
        if (_loaded.TryGetValue(sku, out var loaded))
        {
            return loaded.Product;
        }

        uow.Unit.LockProduct(sku);
        var connection = uow.Connection;
        var version = connection.QuerySingleOrDefault<int?>("SELECT version_number FROM products WHERE sku = @sku", new { sku });
        if (version is null)
        {
            return null;
        }

        var rows = connection.Query<BatchRow>($"SELECT {BatchColumns} FROM batches WHERE sku = @sku ORDER BY id", new { sku });
        var stored = new Dictionary<string, StoredBatch>(StringComparer.Ordinal);
        var batches = new List<Batch>();
        foreach (var row in rows)
        {
            var lines = linesOf(row);
            ChangeId? lastChange = ChangeId.TryParse(row.LastChange, out var change) ? change : null;
            batches.Add(Batch.Restore(
                row.Reference, row.Sku, row.PurchasedQuantity, row.Eta, row.AllocatedQuantity,
                lines.Select(line => new OrderLine(line.OrderId, sku, line.Qty)), lastChange));
            stored[row.Reference] = new StoredBatch(row.Id, row.PurchasedQuantity, row.AllocatedQuantity, lastChange, lines.Select(line => line.OrderId).ToHashSet(StringComparer.Ordinal));
        }

        var product = new Product(sku, batches, version.Value);
        _loaded[sku] = new Loaded(product, IsNew: false, version.Value, stored);
        return product;
    }

    private sealed record Loaded(Product Product, bool IsNew, int Version, Dictionary<string, StoredBatch> Batches);

    private sealed record StoredBatch(long Id, int PurchasedQuantity, int AllocatedQuantity, ChangeId? LastChange, HashSet<string> OrderIds);

    private sealed class BatchRow
    {
        public long Id { get; init; }

        public string Reference { get; init; } = "";

        public string Sku { get; init; } = "";

        public int PurchasedQuantity { get; init; }

        public int AllocatedQuantity { get; init; }

        public DateOnly? Eta { get; init; }

        public string? LastChange { get; init; }
    }

    private sealed class LineRow
    {
        public long Id { get; init; }

        public string OrderId { get; init; } = "";

        public int Qty { get; init; }

        public long BatchId { get; init; }
    }
}
