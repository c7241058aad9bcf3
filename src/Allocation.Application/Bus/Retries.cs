using Allocation.Application.Ports;
using Allocation.Domain;
using Polly;
using Polly.Retry;

namespace Allocation.Application.Bus;

/// <summary>
/// Every retry policy of the service, in one place and all through Polly. A refusal by the rules
/// (<see cref="RejectedException"/>) is never retried: the same input would be refused again.
/// </summary>
public static class Retries
{
    /// <summary>Set on a <see cref="ResilienceContext"/> to hear of each retry: the number of the attempt that failed, and why.</summary>
    // Stryker disable once String : a key is found by its name, and this one is the only key there is of any name
    public static readonly ResiliencePropertyKey<Action<int, Exception>> OnRetry = new("allocation.on-retry");

    /// <summary>Attempts in all of a command that keeps meeting another writer.</summary>
    public const int ConflictAttempts = 5;

    /// <summary>
    /// A command that met another writer: five attempts in all, 10 ms doubling, with jitter so that
    /// writers that collided spread out.
    /// </summary>
    public static ResiliencePipeline Conflicts { get; } = Build(new RetryStrategyOptions
    {
        ShouldHandle = new PredicateBuilder().Handle<ConcurrencyException>(),
        MaxRetryAttempts = ConflictAttempts - 1,
        Delay = TimeSpan.FromMilliseconds(10),
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
    });

    /// <summary>
    /// An inbound message whose command failed for a reason other than a refusal or an outage: three
    /// attempts, 100 ms then 200 ms apart, before it is given up as a dead letter.
    /// </summary>
    public static ResiliencePipeline Inbound { get; } = Build(new RetryStrategyOptions
    {
        ShouldHandle = new PredicateBuilder().Handle<Exception>(exception => exception is not (RejectedException or OperationCanceledException)),
        MaxRetryAttempts = 2,
        Delay = TimeSpan.FromMilliseconds(100),
        BackoffType = DelayBackoffType.Exponential,
    });

    /// <summary>Reaching a server again (subscribing, reading a stream): until cancelled, 250 ms doubling up to 10 s.</summary>
    public static ResiliencePipeline Reconnect(Func<Exception, bool> transient) => Build(new RetryStrategyOptions
    {
        ShouldHandle = new PredicateBuilder().Handle(transient),
        MaxRetryAttempts = int.MaxValue,
        Delay = TimeSpan.FromMilliseconds(250),
        MaxDelay = TimeSpan.FromSeconds(10),
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
    });

    /// <summary>
    /// When an outbox entry that failed <paramref name="attempts"/> times is tried again: 0.25 s doubling,
    /// up to <paramref name="maxDelay"/>. The outbox keeps this schedule in the database, so it outlives
    /// a restart, rather than in a loop here.
    /// </summary>
    public static TimeSpan OutboxDelay(int attempts, TimeSpan maxDelay) =>
        TimeSpan.FromMilliseconds(Math.Min(maxDelay.TotalMilliseconds, 250d * Math.Pow(2, Math.Clamp(attempts - 1, 0, 20))));

    private static ResiliencePipeline Build(RetryStrategyOptions options)
    {
        options.OnRetry = arguments =>
        {
            if (arguments.Outcome.Exception is { } exception && arguments.Context.Properties.TryGetValue(OnRetry, out var report))
            {
                report(arguments.AttemptNumber + 1, exception);
            }

            return ValueTask.CompletedTask;
        };
        return new ResiliencePipelineBuilder().AddRetry(options).Build();
    }
}
