namespace Allocation.Application.Ports;

/// <summary>Tells downstream systems about order lines (Redis channels <c>line_allocated</c> and <c>line_deallocated</c> by default).</summary>
public interface IEventPublisher
{
    ValueTask PublishAsync(Topic topic, LineMessage message, CancellationToken cancellationToken);
}

/// <summary>What happened to the line, which decides the channel it goes out on.</summary>
public enum Topic
{
    /// <summary>The line was allocated to a batch: <c>line_allocated</c>.</summary>
    LineAllocated,

    /// <summary>The line was cancelled: <c>line_deallocated</c>.</summary>
    LineDeallocated,
}

/// <summary>The outbound message for one event; <see cref="MessageId"/> is stable across re-sends.</summary>
public sealed record LineMessage(string OrderId, string Sku, int Qty, string BatchRef, string MessageId);
