using Allocation.Application.Ports;

namespace Allocation.UnitTests.Fakes;

/// <summary>A read model that answers what a test set and remembers what it was asked for.</summary>
public sealed class FakeReadModel : IReadModel
{
    public Page<ProductTotals> Products { get; set; } = new([], null);

    public BatchLines? Batch { get; set; }

    /// <summary>The cursor and page size of the last question.</summary>
    public (object? After, int Limit)? Asked { get; private set; }

    public ValueTask<IReadOnlyList<OrderAllocation>> AllocationsForOrderAsync(string orderId, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<OrderAllocation>>([]);

    public ValueTask<ProductStock?> ProductAsync(string sku, CancellationToken cancellationToken) => ValueTask.FromResult<ProductStock?>(null);

    public ValueTask<Page<ProductTotals>> ProductsAsync(string? after, int limit, CancellationToken cancellationToken)
    {
        Asked = (after, limit);
        return ValueTask.FromResult(Products);
    }

    public ValueTask<BatchLines?> BatchAsync(string reference, long? after, int limit, CancellationToken cancellationToken)
    {
        Asked = (after, limit);
        return ValueTask.FromResult(Batch?.Batch.Reference == reference ? Batch : null);
    }
}
