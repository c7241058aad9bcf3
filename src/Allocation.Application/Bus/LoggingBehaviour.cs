using System.Diagnostics;
using Allocation.Application.Commands;
using Allocation.Domain;
using FluentValidation;
using Mediator;
using Microsoft.Extensions.Logging;

namespace Allocation.Application.Bus;

/// <summary>
/// Outermost behaviour: every log line written while a message is handled carries its orderid, sku and
/// batchref. Rejections by the rules are information; anything else is an error.
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
        catch (Exception exception) when (IsRejection(exception))
        {
            LogRejected(typeof(TMessage).Name, exception.Message);
            throw;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            LogFailed(exception, typeof(TMessage).Name);
            throw;
        }
    }

    private static bool IsRejection(Exception exception) => exception
        is ValidationException
        or InvalidSkuException
        or OutOfStockException
        or UnknownBatchException
        or LineConflictException
        or BatchConflictException
        or UnknownDeadLetterException
        or NotReplayableException;

    [LoggerMessage(LogLevel.Debug, "Handled {MessageType} in {ElapsedMs:0.000} ms")]
    private partial void LogHandled(string messageType, double elapsedMs);

    [LoggerMessage(LogLevel.Information, "{MessageType} rejected: {Reason}")]
    private partial void LogRejected(string messageType, string reason);

    [LoggerMessage(LogLevel.Error, "{MessageType} failed")]
    private partial void LogFailed(Exception exception, string messageType);
}
