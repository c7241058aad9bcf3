using Allocation.Application.Bus;
using Allocation.Application.Commands;
using Allocation.Application.Ports;
using Allocation.Domain;
using FluentValidation;
using Mediator;

namespace Allocation.Application.Events;

/// <summary>Tells downstream systems, with the outbox entry's id so that they can drop duplicates.</summary>
public sealed class PublishAllocated(IEventPublisher publisher, EventContext context) : INotificationHandler<Allocated>
{
    public ValueTask Handle(Allocated notification, CancellationToken cancellationToken) =>
        publisher.PublishAsync(
            Topic.LineAllocated,
            new LineMessage(notification.OrderId, notification.Sku, notification.Qty, notification.BatchReference, context.MessageId),
            cancellationToken);
}

/// <summary>What may leave the service as <c>line_allocated</c>.</summary>
public sealed class AllocatedValidator : AbstractValidator<Allocated>
{
    public AllocatedValidator() =>
        this.ValidLineMessage(allocated => allocated.OrderId, allocated => allocated.Sku, allocated => allocated.BatchReference, allocated => allocated.Qty);
}
