using Allocation.Application.Commands;
using Allocation.Domain;
using Mediator;
using Microsoft.Extensions.Logging;

namespace Allocation.Application.Events;

/// <summary>
/// Allocates a deallocated line again, to another batch if one can take it. A batch change reallocates
/// its lines itself; this serves <see cref="Deallocated"/> events that reach the bus on their own (outbox
/// entries written by versions that reallocated in a second transaction).
/// </summary>
public sealed partial class Reallocate(ISender sender, ILogger<Reallocate> logger) : INotificationHandler<Deallocated>
{
    public async ValueTask Handle(Deallocated notification, CancellationToken cancellationToken)
    {
        try
        {
            await sender.Send(new Allocate(notification.OrderId, notification.Sku, notification.Qty), cancellationToken);
        }
        catch (OutOfStockException)
        {
            // The OutOfStock event was committed with the attempt; the stock team hears of it.
            LogUnallocated(notification.OrderId, notification.Sku);
        }
        catch (LineConflictException exception)
        {
            // The order was allocated again with another quantity in the meantime; that allocation stands.
            LogSuperseded(notification.OrderId, notification.Sku, exception.Message);
        }
    }

    [LoggerMessage(LogLevel.Warning, "Deallocated line of order {orderid} for sku {sku} could not be allocated again: out of stock")]
    private partial void LogUnallocated(string orderid, string sku);

    [LoggerMessage(LogLevel.Information, "Deallocated line of order {orderid} for sku {sku} was already allocated again: {Reason}")]
    private partial void LogSuperseded(string orderid, string sku, string reason);
}
