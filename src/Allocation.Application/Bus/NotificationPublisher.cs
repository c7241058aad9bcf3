using FluentValidation;
using Mediator;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Allocation.Application.Bus;

/// <summary>
/// Publishes a domain event to its handlers. Pipeline behaviours wrap <c>Send</c> only, so outbound
/// validation happens here: an event that breaks its validator reaches no handler and fails with a
/// <see cref="InvalidInputException"/>, which the outbox records as a dead letter. A failing handler is
/// logged and reported to the caller (the outbox, which retries it); the command that raised the event
/// stays committed. Log lines carry the event's orderid, sku and batchref, like the command's.
/// </summary>
public sealed partial class NotificationPublisher(IServiceProvider services, ILogger<NotificationPublisher> logger) : INotificationPublisher
{
    public async ValueTask Publish<TNotification>(
        NotificationHandlers<TNotification> handlers, TNotification notification, CancellationToken cancellationToken)
        where TNotification : INotification
    {
        using var scope = logger.BeginScope(LogProperties<TNotification>.Of(notification));
        Validation.ThrowIfInvalid(services.GetServices<IValidator<TNotification>>(), notification);

        List<Exception>? failures = null;
        foreach (var handler in handlers)
        {
            try
            {
                await handler.Handle(notification, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // An outage, or an event waiting for the one before it, is the outbox's to report once.
                if (exception is not (Ports.UnavailableException or EventContext.NotInTurnException))
                {
                    LogHandlerFailed(exception, handler.GetType().Name, typeof(TNotification).Name);
                }

                (failures ??= []).Add(exception);
            }
        }

        if (failures is not null)
        {
            throw failures.Count == 1 ? failures[0] : new AggregateException(failures);
        }

        LogPublished(typeof(TNotification).Name);
    }

    [LoggerMessage(LogLevel.Debug, "Handled {EventType}")]
    private partial void LogPublished(string eventType);

    [LoggerMessage(LogLevel.Warning, "{Handler} failed to handle {EventType}")]
    private partial void LogHandlerFailed(Exception exception, string handler, string eventType);
}
