using Allocation.Application.Ports;
using Allocation.Domain;
using Allocation.Infrastructure.Outbox;

namespace Allocation.Infrastructure.Persistence;

/// <summary>
/// Loads products with only the lines a command needs, from the rows of its commit group
/// (<see cref="GroupRows"/>: read ahead for the group, or read and locked on first use), remembers what
/// it loaded, and on commit works out what changed (<see cref="ChangeSet"/>). The same code serves
/// both databases.
/// </summary>
internal sealed class ProductRepository(UnitOfWork uow) : IProductRepository
{
    private readonly Dictionary<string, Loaded> _loaded = new(StringComparer.Ordinal);

    public bool HasTracked => _loaded.Count > 0;

    private GroupRows Rows => uow.Unit.Rows;

    public ValueTask<Product?> GetAsync(string sku, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Load(sku, _ => []));

    public ValueTask<Product?> GetForOrderLineAsync(string sku, string orderId, CancellationToken cancellationToken)
    {
        if (_loaded.TryGetValue(sku, out var loaded))
        {
            return ValueTask.FromResult<Product?>(loaded.Product);
        }

        if (Rows.Product(sku) is null)
        {
            return ValueTask.FromResult<Product?>(null);
        }

        var line = Rows.Line(orderId, sku);
        return ValueTask.FromResult(Load(sku, batch => line is not null && line.BatchReference == batch.Reference ? [line] : []));
    }

    public ValueTask<Product?> GetForBatchChangeAsync(string reference, int newQty, CancellationToken cancellationToken)
    {
        if (Rows.SkuOfBatch(reference) is not { } sku || Rows.Product(sku) is not { } rows)
        {
            return ValueTask.FromResult<Product?>(null);
        }

        // Only the most recent lines that the new quantity no longer covers.
        var batch = rows.Batches.Find(candidate => candidate.Reference == reference)!;
        var excess = batch.Allocated - newQty;
        var lines = excess > 0 ? Rows.NewestLines(batch, excess) : [];
        return ValueTask.FromResult(Load(sku, candidate => candidate.Reference == reference ? lines : []));
    }

    public ValueTask<string?> FindSkuOfBatchAsync(string reference, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Rows.SkuOfBatch(reference));

    public void Add(Product product)
    {
        if (_loaded.ContainsKey(product.Sku))
        {
            throw new InvalidOperationException($"Product {product.Sku} is already part of this unit of work.");
        }

        // Locks the SKU: another instance creating the same product waits for this one, then sees it.
        if (Rows.Product(product.Sku) is not null)
        {
            throw new ConcurrencyException($"Product {product.Sku} was stored by another writer first.");
        }

        _loaded[product.Sku] = new Loaded(product, IsNew: true, product.VersionNumber, []);
    }

    public void Clear() => _loaded.Clear();

    /// <summary>What changed since loading, row by row, with the events raised, ready for the outbox.</summary>
    public ChangeSet Changes(TimeProvider time)
    {
        var changes = new ChangeSet();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var (product, isNew, loadedVersion, batches) in _loaded.Values)
        {
            if (isNew || product.VersionNumber != loadedVersion)
            {
                changes.Products.Add(new ProductVersion(product.Sku, isNew, loadedVersion, product.VersionNumber));
            }

            foreach (var batch in product.Batches)
            {
                var state = new BatchState(batch.Reference, batch.Sku, batch.PurchasedQuantity, batch.AllocatedQuantity, batch.Eta, batch.LastChange?.ToString());
                if (!batches.TryGetValue(batch.Reference, out var stored))
                {
                    changes.NewBatches.Add(state);
                }
                else if (stored.State != state)
                {
                    changes.ChangedBatches.Add(state);
                }

                var lines = stored?.OrderIds ?? [];
                changes.RemovedLines.AddRange(lines.Where(orderId => !batch.Allocations.Any(line => line.OrderId == orderId)).Select(orderId => new LineKey(orderId, product.Sku)));
                changes.AddedLines.AddRange(batch.Allocations.Where(line => !lines.Contains(line.OrderId)).Select(line => new AddedLine(line.OrderId, line.Sku, line.Qty, batch.Reference)));
            }

            foreach (var @event in product.Events)
            {
                if (DomainEvents.IsDispatched(@event))
                {
                    var (type, payload) = EventSerializer.Serialize(@event);
                    changes.Outbox.Add(new OutboxRow(Guid.CreateVersion7().ToString(), type, payload, now));
                }

                changes.Events.Add(@event);
            }

            product.ClearEvents();
        }

        return changes;
    }

    private Product? Load(string sku, Func<BatchRows, IReadOnlyList<LineRow>> linesOf)
    {
        if (_loaded.TryGetValue(sku, out var loaded))
        {
            return loaded.Product;
        }

        if (Rows.Product(sku) is not { } rows)
        {
            return null;
        }

        var stored = new Dictionary<string, StoredBatch>(StringComparer.Ordinal);
        var batches = new List<Batch>();
        foreach (var row in rows.Batches)
        {
            var lines = linesOf(row);
            batches.Add(Batch.Restore(
                row.Reference, row.Sku, row.Purchased, row.Eta, row.Allocated,
                lines.Select(line => new OrderLine(line.OrderId, sku, line.Qty)),
                ChangeId.TryParse(row.LastChange, out var change) ? change : null));
            stored[row.Reference] = new StoredBatch(
                new BatchState(row.Reference, row.Sku, row.Purchased, row.Allocated, row.Eta, row.LastChange),
                lines.Select(line => line.OrderId).ToHashSet(StringComparer.Ordinal));
        }

        var product = new Product(sku, batches, rows.Version);
        _loaded[sku] = new Loaded(product, IsNew: false, rows.Version, stored);
        return product;
    }

    private sealed record Loaded(Product Product, bool IsNew, int Version, Dictionary<string, StoredBatch> Batches);

    private sealed record StoredBatch(BatchState State, HashSet<string> OrderIds);
}
