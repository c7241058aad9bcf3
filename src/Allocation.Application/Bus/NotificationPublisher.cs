using FluentValidation;
using Mediator;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Allocation.Application.Bus;

/// <summary>
/// Publishes a domain event to its handlers. Pipeline behaviours wrap <c>Send</c> only, so outbound
/// validation happens here: an event that breaks its validator reaches no handler and fails with a
/// <see cref="ValidationException"/>, which the outbox records as a dead letter. A failing handler is
/// logged and reported to the caller (the outbox, which retries it); the command that raised the event
/// stays committed.
/// </summary>
public sealed partial class NotificationPublisher(IServiceProvider services, ILogger<NotificationPublisher> logger) : INotificationPublisher
{
    public async ValueTask Publish<TNotification>(
        NotificationHandlers<TNotification> handlers, TNotification notification, CancellationToken cancellationToken)
        where TNotification : INotification
    {
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
                LogHandlerFailed(exception, handler.GetType().Name, typeof(TNotification).Name);
                (failures ??= []).Add(exception);
            }
        }

        if (failures is not null)
        {
            throw failures.Count == 1 ? failures[0] : new AggregateException(failures);
        }
    }

    [LoggerMessage(LogLevel.Warning, "{Handler} failed to handle {EventType}")]
    private partial void LogHandlerFailed(Exception exception, string handler, string eventType);
}
