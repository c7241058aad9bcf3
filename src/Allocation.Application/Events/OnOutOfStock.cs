using Allocation.Application.Bus;
using Allocation.Application.Ports;
using Allocation.Domain;
using Mediator;

namespace Allocation.Application.Events;

/// <summary>E-mails the stock team; the message id lets a re-sent e-mail be recognised.</summary>
public sealed class SendOutOfStockNotification(INotifier notifier, EventContext context) : INotificationHandler<OutOfStock>
{
    public ValueTask Handle(OutOfStock notification, CancellationToken cancellationToken) =>
        notifier.NotifyStockTeamAsync(
            $"Out of stock for {notification.Sku}",
            $"An order line for sku {notification.Sku} could not be allocated: no batch has enough stock.",
            context.MessageId,
            cancellationToken);
}
