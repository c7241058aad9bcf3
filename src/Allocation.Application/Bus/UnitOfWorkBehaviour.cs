using Allocation.Application.Ports;
using Mediator;
using Microsoft.Extensions.Logging;
using Polly;

namespace Allocation.Application.Bus;

/// <summary>
/// Runs a command in the scope's unit of work: whatever the handler did not commit is rolled back, the
/// caller hears back once what it committed is durable, and the whole command is retried
/// (<see cref="Retries.Conflicts"/>) when another writer got there first.
/// </summary>
public sealed partial class UnitOfWorkBehaviour<TMessage, TResponse>(IUnitOfWork uow, ILogger<UnitOfWorkBehaviour<TMessage, TResponse>> logger)
    : IPipelineBehavior<TMessage, TResponse>
    where TMessage : IBaseCommand
{
    public async ValueTask<TResponse> Handle(
        TMessage message, MessageHandlerDelegate<TMessage, TResponse> next, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(Retries.OnRetry, (attempt, exception) => LogRetry(typeof(TMessage).Name, attempt, exception.Message));
        try
        {
            return await Retries.Conflicts.ExecuteAsync(
                static (context, state) => state.uow.RunAsync(state.keys, token => state.next(state.message, token), context.CancellationToken),
                context,
                (uow, next, message, keys: MessageKeys.Of(message)));
        }
        finally
        {
            // Stryker disable once Statement : a context not returned is collected instead of reused; nothing else changes
            ResilienceContextPool.Shared.Return(context);
        }
    }

    [LoggerMessage(LogLevel.Warning, "{MessageType} attempt {Attempt} conflicted with another writer, retrying: {Reason}")]
    private partial void LogRetry(string messageType, int attempt, string reason);
}
