using System.Diagnostics;
using Allocation.Application.Ports;
using Allocation.Domain;
using Mediator;
using Microsoft.Extensions.Logging;

namespace Allocation.Application.Bus;

/// <summary>
/// Outermost behaviour: every log line written while a message is handled carries its orderid, sku and
/// batchref. Rejections by the rules are information, an outage a warning; anything else is an error.
/// </summary>
public sealed partial class LoggingBehaviour<TMessage, TResponse>(ILogger<LoggingBehaviour<TMessage, TResponse>> logger)
    : IPipelineBehavior<TMessage, TResponse>
    where TMessage : IMessage
{
    public async ValueTask<TResponse> Handle(
        TMessage message, MessageHandlerDelegate<TMessage, TResponse> next, CancellationToken cancellationToken)
    {
        using var scope = logger.BeginScope(LogProperties<TMessage>.Of(message));
        var started = Stopwatch.GetTimestamp();
        try
        {
            var response = await next(message, cancellationToken);
            LogHandled(typeof(TMessage).Name, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return response;
        }
        catch (RejectedException exception)
        {
            LogRejected(typeof(TMessage).Name, exception.Message);
            throw;
        }
        catch (UnavailableException exception)
        {
            // An outage, not a fault of this message: one line, no stack trace, however many requests meet it.
            LogUnavailable(typeof(TMessage).Name, exception.Message);
            throw;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            LogFailed(exception, typeof(TMessage).Name);
            throw;
        }
    }

    [LoggerMessage(LogLevel.Debug, "Handled {MessageType} in {ElapsedMs:0.000} ms")]
    private partial void LogHandled(string messageType, double elapsedMs);

    [LoggerMessage(LogLevel.Information, "{MessageType} rejected: {Reason}")]
    private partial void LogRejected(string messageType, string reason);

    [LoggerMessage(LogLevel.Warning, "{MessageType} not handled, try again later: {Reason}")]
    private partial void LogUnavailable(string messageType, string reason);

    [LoggerMessage(LogLevel.Error, "{MessageType} failed")]
    private partial void LogFailed(Exception exception, string messageType);
}
