using Allocation.Domain;

namespace Allocation.Application.Ports;

/// <summary>
/// Loads products with the slice of their allocations a command needs, never all of them, so that a
/// command costs the same however many lines a SKU already has.
/// </summary>
public interface IProductRepository
{
    /// <summary>The product with its batches and no allocated lines, or null for an unknown SKU.</summary>
    ValueTask<Product?> GetAsync(string sku, CancellationToken cancellationToken);

    /// <summary>The product with its batches and the line of <paramref name="orderId"/>, if it is allocated.</summary>
    ValueTask<Product?> GetForOrderLineAsync(string sku, string orderId, CancellationToken cancellationToken);

    /// <summary>
    /// The product owning the batch, with that batch's most recent lines that setting its purchased
    /// quantity to <paramref name="newQty"/> would deallocate; null when no batch has the reference.
    /// </summary>
    ValueTask<Product?> GetForBatchChangeAsync(string reference, int newQty, CancellationToken cancellationToken);

    /// <summary>The SKU of the batch with this reference, or null when there is none.</summary>
    ValueTask<string?> FindSkuOfBatchAsync(string reference, CancellationToken cancellationToken);

    void Add(Product product);
}
