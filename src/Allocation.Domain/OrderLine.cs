namespace Allocation.Domain;

/// <summary>A customer's request for a quantity of one SKU, identified by order id and SKU.</summary>
public sealed record OrderLine
{
    public OrderLine(string orderId, string sku, int qty)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(orderId);
        ArgumentException.ThrowIfNullOrWhiteSpace(sku);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(qty);
        OrderId = orderId;
        Sku = sku;
        Qty = qty;
    }

    public string OrderId { get; }

    public string Sku { get; }

    public int Qty { get; }
}
