using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Allocation.Infrastructure.Persistence;

/// <summary>
/// Makes one instance at a time the leader, through the database (<see cref="ISqlDatabase.TryLeadAsync"/>):
/// only the leader dispatches the outbox and consumes pub/sub messages, so with many instances each
/// event goes out once and each message is applied once. The others stand by and try again every
/// <see cref="RetryInterval"/>, so when the leader dies another takes over within about that long.
/// </summary>
public sealed partial class LeaderElection(ISqlDatabase database, ILogger<LeaderElection> logger) : BackgroundService
{
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private TaskCompletionSource<CancellationToken> _leading = NewSource();

    public bool IsLeader => _leading.Task.IsCompletedSuccessfully && !_leading.Task.Result.IsCancellationRequested;

    /// <summary>Waits until this instance leads; the token returned is cancelled if the lead is lost.</summary>
    public async Task<CancellationToken> WaitUntilLeadingAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task<CancellationToken> leading;
            lock (_lock)
            {
                leading = _leading.Task;
            }

            var lost = await leading.WaitAsync(cancellationToken);
            if (!lost.IsCancellationRequested)
            {
                return lost;
            }

            // That lead was lost and a new one is being sought; wait for it.
            await Task.Delay(RetryInterval / 10, cancellationToken);
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> each time this instance leads, with a token cancelled when the lead
    /// is lost or the host stops; returns when the host stops.
    /// </summary>
    /// <remarks>
    /// Work that fails (the database went away under it, which is also how the lead is often lost) is
    /// logged and started again once this instance leads, after <see cref="RetryInterval"/>: it never
    /// ends the loop, which would stop the host.
    /// </remarks>
    public async Task WhileLeadingAsync(Func<CancellationToken, Task> work, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            CancellationToken lost;
            try
            {
                lost = await WaitUntilLeadingAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            using var leading = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lost);
            try
            {
                await work(leading.Token);
            }
            catch (OperationCanceledException) when (leading.IsCancellationRequested)
            {
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                if (lost.IsCancellationRequested)
                {
                    LogWorkEndedWithLead(exception.Message);
                }
                else
                {
                    LogWorkFailed(exception);
                }

                await DelayAsync(RetryInterval, stoppingToken);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var standingBy = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            ILeadership? lease = null;
            try
            {
                lease = await database.TryLeadAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                LogCannotElect(exception.Message);
            }

            if (lease is null)
            {
                if (!standingBy)
                {
                    LogStandingBy(database.Description);
                    standingBy = true;
                }

                await DelayAsync(RetryInterval, stoppingToken);
                continue;
            }

            await using (lease)
            {
                standingBy = false;
                LogLeading(database.Description);
                lock (_lock)
                {
                    _leading.TrySetResult(lease.Lost);
                }

                using var held = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lease.Lost);
                try
                {
                    await Task.Delay(Timeout.Infinite, held.Token);
                }
                catch (OperationCanceledException)
                {
                }

                lock (_lock)
                {
                    _leading = NewSource();
                }

                if (!stoppingToken.IsCancellationRequested)
                {
                    LogLost(database.Description);
                }
            }
        }
    }

    private static async Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static TaskCompletionSource<CancellationToken> NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(LogLevel.Information, "This instance leads ({Database}): it dispatches the outbox and consumes pub/sub messages")]
    private partial void LogLeading(string database);

    [LoggerMessage(LogLevel.Information, "Another instance leads ({Database}); this one serves HTTP and stands by")]
    private partial void LogStandingBy(string database);

    [LoggerMessage(LogLevel.Warning, "This instance lost the lead ({Database}); it stops dispatching and seeks the lead again")]
    private partial void LogLost(string database);

    [LoggerMessage(LogLevel.Warning, "Work of the lead ended as the lead was lost: {Reason}; it starts again once this instance leads")]
    private partial void LogWorkEndedWithLead(string reason);

    [LoggerMessage(LogLevel.Error, "Work of the lead failed; it starts again shortly, while this instance leads")]
    private partial void LogWorkFailed(Exception exception);

    [LoggerMessage(LogLevel.Warning, "Could not seek the lead: {Reason}; trying again")]
    private partial void LogCannotElect(string reason);
}
