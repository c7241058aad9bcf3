namespace Allocation.Domain;

public sealed class InvalidSkuException(string sku) : Exception($"Invalid sku {sku}")
{
    public string Sku { get; } = sku;
}

public sealed class OutOfStockException(string sku) : Exception($"Out of stock for sku {sku}")
{
    public string Sku { get; } = sku;
}

public sealed class UnknownBatchException(string reference) : Exception($"Unknown batch {reference}")
{
    public string Reference { get; } = reference;
}

/// <summary>The order line is already allocated with a different quantity.</summary>
public sealed class LineConflictException(string orderId, string sku, int allocatedQty, int requestedQty)
    : Exception($"Order {orderId} already has {allocatedQty} of sku {sku} allocated; cannot allocate {requestedQty}")
{
    public string OrderId { get; } = orderId;

    public string Sku { get; } = sku;
}

/// <summary>A batch with this reference exists with different details.</summary>
public sealed class BatchConflictException(string reference, string detail)
    : Exception($"Batch {reference} already exists {detail}")
{
    public string Reference { get; } = reference;
}
