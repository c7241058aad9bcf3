namespace Allocation.Application.Ports;

/// <summary>Cheap queries for the HTTP read routes; they never load aggregates.</summary>
public interface IReadModel
{
    ValueTask<IReadOnlyList<OrderAllocation>> AllocationsForOrderAsync(string orderId, CancellationToken cancellationToken);
}

public sealed record OrderAllocation(string Sku, string BatchRef);
