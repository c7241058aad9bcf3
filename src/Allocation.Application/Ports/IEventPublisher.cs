namespace Allocation.Application.Ports;

/// <summary>Tells downstream systems about allocations (Redis channel <c>line_allocated</c> by default).</summary>
public interface IEventPublisher
{
    ValueTask PublishAsync(LineAllocated message, CancellationToken cancellationToken);
}

/// <summary>The outbound message for one <c>Allocated</c> event; <see cref="MessageId"/> is stable across re-sends.</summary>
public sealed record LineAllocated(string OrderId, string Sku, int Qty, string BatchRef, string MessageId);
