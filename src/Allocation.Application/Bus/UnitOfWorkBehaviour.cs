using Allocation.Application.Ports;
using Mediator;
using Microsoft.Extensions.Logging;

namespace Allocation.Application.Bus;

/// <summary>
/// Runs a command in the scope's unit of work: whatever the handler did not commit is rolled back, the
/// caller hears back once what it committed is durable, and the whole command is retried, a bounded
/// number of times, when another writer got there first.
/// </summary>
public sealed partial class UnitOfWorkBehaviour<TMessage, TResponse>(IUnitOfWork uow, ILogger<UnitOfWorkBehaviour<TMessage, TResponse>> logger)
    : IPipelineBehavior<TMessage, TResponse>
    where TMessage : IBaseCommand
{
    public const int MaxAttempts = 5;

    public async ValueTask<TResponse> Handle(
        TMessage message, MessageHandlerDelegate<TMessage, TResponse> next, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await uow.RunAsync(token => next(message, token), cancellationToken);
            }
            catch (ConcurrencyException exception) when (attempt < MaxAttempts)
            {
                LogRetry(typeof(TMessage).Name, attempt, exception.Message);
                await uow.RollbackAsync(cancellationToken);
                await Task.Delay(Backoff(attempt), cancellationToken);
            }
            finally
            {
                await uow.RollbackAsync(CancellationToken.None);
            }
        }
    }

    // 10, 20, 40, 80 ms, each with up to half again of jitter so that retrying writers spread out.
    private static TimeSpan Backoff(int attempt) =>
        TimeSpan.FromMilliseconds((10 << (attempt - 1)) * (1 + (Random.Shared.NextDouble() / 2)));

    [LoggerMessage(LogLevel.Warning, "{MessageType} attempt {Attempt} conflicted with another writer, retrying: {Reason}")]
    private partial void LogRetry(string messageType, int attempt, string reason);
}
