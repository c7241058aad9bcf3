namespace Allocation.Application.Ports;

/// <summary>Cheap queries for the HTTP read routes: indexed SQL on committed data, never whole aggregates.</summary>
public interface IReadModel
{
    ValueTask<IReadOnlyList<OrderAllocation>> AllocationsForOrderAsync(string orderId, CancellationToken cancellationToken);

    /// <summary>The product with its batches in allocation preference order; null for an unknown SKU.</summary>
    ValueTask<ProductStock?> ProductAsync(string sku, CancellationToken cancellationToken);

    /// <summary>Products with SKU after <paramref name="after"/>, in SKU order, with their totals.</summary>
    ValueTask<Page<ProductTotals>> ProductsAsync(string? after, int limit, CancellationToken cancellationToken);

    /// <summary>The batch with a page of its allocated lines, oldest first; null for an unknown reference.</summary>
    ValueTask<BatchLines?> BatchAsync(string reference, long? after, int limit, CancellationToken cancellationToken);
}

public sealed record OrderAllocation(string Sku, string BatchRef);

public sealed record ProductStock(string Sku, int Version, IReadOnlyList<BatchStock> Batches);

public sealed record BatchStock(string Reference, DateOnly? Eta, int Purchased, int Allocated)
{
    public int Available => Purchased - Allocated;
}

public sealed record ProductTotals(string Sku, int Version, int Batches, long Purchased, long Allocated)
{
    public long Available => Purchased - Allocated;
}

public sealed record BatchLines(BatchStock Batch, string Sku, Page<AllocatedLine> Allocations);

public sealed record AllocatedLine(long Id, string OrderId, int Qty);

/// <summary>One page of a keyset-paged list; <see cref="Next"/> is the cursor of the following page, null on the last.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? Next);
