using Allocation.Application.Bus;
using Allocation.Domain;
using Polly;

namespace Allocation.UnitTests.Handlers;

/// <summary>The retry budgets the service promises: how often, how far apart, and what is never retried.</summary>
public class RetriesTests
{
    [TestCase(0, 250)]
    [TestCase(1, 250)]
    [TestCase(2, 500)]
    [TestCase(3, 1_000)]
    [TestCase(6, 8_000)]
    public void AnOutboxEntryWaitsAQuarterSecondDoublingWithEachFailure(int attempts, int milliseconds)
    {
        var delay = Retries.OutboxDelay(attempts, TimeSpan.FromHours(1));

        delay.ShouldBe(TimeSpan.FromMilliseconds(milliseconds));
    }

    [TestCase(5, 2_000)]
    [TestCase(21, 3_600_000)]
    [TestCase(1_000, 3_600_000)]
    public void AnOutboxEntryNeverWaitsLongerThanTheMaximum(int attempts, int maxMilliseconds)
    {
        var delay = Retries.OutboxDelay(attempts, TimeSpan.FromMilliseconds(maxMilliseconds));

        delay.ShouldBe(TimeSpan.FromMilliseconds(maxMilliseconds));
    }

    [Test]
    public void TheDoublingStopsAfterTwentyOneFailures()
    {
        var delay = Retries.OutboxDelay(1_000, TimeSpan.MaxValue);

        delay.ShouldBe(TimeSpan.FromMilliseconds(250d * Math.Pow(2, 20)));
    }

    [Test]
    public async Task AnInboundMessageThatKeepsFailingIsTriedThreeTimesAHundredThenTwoHundredMillisecondsApart()
    {
        var attempts = new List<DateTime>();
        var retries = new List<int>();

        await Should.ThrowAsync<TimeoutException>(() => Run(Retries.Inbound, () => throw new TimeoutException(), attempts, retries));

        attempts.Count.ShouldBe(3);
        retries.ShouldBe([1, 2]);
        (attempts[1] - attempts[0]).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(90));
        (attempts[2] - attempts[1]).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(190));
    }

    [Test]
    public async Task AnInboundMessageThatFailedOnceIsAppliedOnItsSecondAttempt()
    {
        var attempts = new List<DateTime>();

        await Run(Retries.Inbound, () => attempts.Count == 1 ? throw new TimeoutException() : ValueTask.CompletedTask, attempts, []);

        attempts.Count.ShouldBe(2);
    }

    [Test]
    public async Task ARefusedOrCancelledInboundMessageIsNotRetried()
    {
        var refusedAttempts = new List<DateTime>();
        var cancelledAttempts = new List<DateTime>();

        await Should.ThrowAsync<UnknownBatchException>(() => Run(Retries.Inbound, () => throw new UnknownBatchException("batch-1"), refusedAttempts, []));
        await Should.ThrowAsync<OperationCanceledException>(() => Run(Retries.Inbound, () => throw new OperationCanceledException(), cancelledAttempts, []));

        refusedAttempts.Count.ShouldBe(1);
        cancelledAttempts.Count.ShouldBe(1);
    }

    [Test]
    public async Task AConflictIsTriedFiveTimesInAll()
    {
        var attempts = new List<DateTime>();

        await Should.ThrowAsync<Application.Ports.ConcurrencyException>(() => Run(Retries.Conflicts, () => throw new Application.Ports.ConcurrencyException("busy"), attempts, []));

        attempts.Count.ShouldBe(Retries.ConflictAttempts);
        Retries.ConflictAttempts.ShouldBe(5);
    }

    [Test]
    public async Task AReconnectionRetriesWhatIsTransientAndNothingElse()
    {
        var transientAttempts = new List<DateTime>();
        var otherAttempts = new List<DateTime>();
        var reconnect = Retries.Reconnect(exception => exception is TimeoutException);

        await Run(reconnect, () => transientAttempts.Count < 3 ? throw new TimeoutException() : ValueTask.CompletedTask, transientAttempts, []);
        await Should.ThrowAsync<InvalidOperationException>(() => Run(reconnect, () => throw new InvalidOperationException(), otherAttempts, []));

        transientAttempts.Count.ShouldBe(3);
        otherAttempts.Count.ShouldBe(1);
    }

    private static async Task Run(ResiliencePipeline pipeline, Func<ValueTask> attempt, List<DateTime> attempts, List<int> retries)
    {
        var context = ResilienceContextPool.Shared.Get();
        context.Properties.Set(Retries.OnRetry, (number, _) => retries.Add(number));
        try
        {
            await pipeline.ExecuteAsync(
                async _ =>
                {
                    attempts.Add(DateTime.UtcNow);
                    await attempt();
                },
                context);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }
}
