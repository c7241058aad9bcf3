using Allocation.Application.Bus;
using Allocation.Application.Commands;
using Allocation.Application.Ports;
using Allocation.Domain;
using FluentValidation;
using Mediator;

namespace Allocation.Application.Events;

/// <summary>Tells downstream systems that the line was cancelled, on <c>line_deallocated</c>.</summary>
public sealed class PublishLineCancelled(IEventPublisher publisher, EventContext context) : INotificationHandler<LineCancelled>
{
    public ValueTask Handle(LineCancelled notification, CancellationToken cancellationToken) =>
        publisher.PublishAsync(
            Topic.LineDeallocated,
            new LineMessage(notification.OrderId, notification.Sku, notification.Qty, notification.BatchReference, context.MessageId),
            cancellationToken);
}

/// <summary>What may leave the service as <c>line_deallocated</c>.</summary>
public sealed class LineCancelledValidator : AbstractValidator<LineCancelled>
{
    public LineCancelledValidator() =>
        this.ValidLineMessage(cancelled => cancelled.OrderId, cancelled => cancelled.Sku, cancelled => cancelled.BatchReference, cancelled => cancelled.Qty);
}
