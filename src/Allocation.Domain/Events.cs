using Mediator;

namespace Allocation.Domain;

/// <summary>An order line was allocated to a batch. Published downstream as <c>line_allocated</c>.</summary>
public sealed record Allocated(string OrderId, string Sku, int Qty, string BatchReference) : INotification;

/// <summary>
/// An order line lost its batch because the batch shrank. The change that raises it allocates the line
/// again itself (an <see cref="Allocated"/> or <see cref="OutOfStock"/> follows), so it is not dispatched.
/// </summary>
public sealed record Deallocated(string OrderId, string Sku, int Qty) : INotification;

/// <summary>
/// An order line was cancelled and its stock freed; it is never allocated again by the service.
/// Published downstream as <c>line_deallocated</c>.
/// </summary>
public sealed record LineCancelled(string OrderId, string Sku, int Qty, string BatchReference) : INotification;

/// <summary>No batch of the SKU could take a line; the stock team is told.</summary>
public sealed record OutOfStock(string Sku) : INotification;

/// <summary>What becomes of the events above once their change is committed.</summary>
public static class DomainEvents
{
    /// <summary>
    /// Whether the event is stored with its change and dispatched to its handlers once that committed.
    /// A <see cref="Deallocated"/> is not: the change that raised it has allocated the line again already.
    /// </summary>
    public static bool IsDispatched(INotification @event) => @event is not Deallocated;
}
