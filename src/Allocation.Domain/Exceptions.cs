namespace Allocation.Domain;

/// <summary>
/// A request refused by the rules. Each refusal says here, once, what it is: a status in HTTP's terms
/// (400 the input is wrong, 404 there is no such thing, 409 it conflicts with what is stored) and a
/// short title. HTTP answers with them, logs record a refusal as information rather than an error,
/// and the Redis consumer stores a refused message as a dead letter instead of retrying it.
/// </summary>
public abstract class RejectedException(string message, int status, string title) : Exception(message)
{
    public int Status { get; } = status;

    public string Title { get; } = title;

    /// <summary>Messages keyed by the field they are about, for invalid input; null otherwise.</summary>
    public virtual IReadOnlyDictionary<string, string[]>? Errors => null;
}

public sealed class InvalidSkuException(string sku) : RejectedException($"Invalid sku {sku}", 400, "Invalid sku")
{
    public string Sku { get; } = sku;
}

public sealed class OutOfStockException(string sku) : RejectedException($"Out of stock for sku {sku}", 409, "Out of stock")
{
    public string Sku { get; } = sku;
}

public sealed class UnknownBatchException(string reference) : RejectedException($"Unknown batch {reference}", 404, "Unknown batch")
{
    public string Reference { get; } = reference;
}

/// <summary>The order line is already allocated with a different quantity.</summary>
public sealed class LineConflictException(string orderId, string sku, int allocatedQty, int requestedQty)
    : RejectedException($"Order {orderId} already has {allocatedQty} of sku {sku} allocated; cannot allocate {requestedQty}", 409, "Conflicting order line")
{
    public string OrderId { get; } = orderId;

    public string Sku { get; } = sku;
}

/// <summary>A batch with this reference exists with different details.</summary>
public sealed class BatchConflictException(string reference, string detail)
    : RejectedException($"Batch {reference} already exists {detail}", 409, "Conflicting batch")
{
    public string Reference { get; } = reference;
}

/// <summary>The order has no allocated line of the SKU, so there is nothing to cancel.</summary>
public sealed class LineNotAllocatedException(string orderId, string sku)
    : RejectedException($"Order {orderId} has no allocated line of sku {sku}", 404, "Line not allocated")
{
    public string OrderId { get; } = orderId;

    public string Sku { get; } = sku;
}
