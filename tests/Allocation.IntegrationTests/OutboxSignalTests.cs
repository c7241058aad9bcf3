using Allocation.Infrastructure.Outbox;
using Allocation.IntegrationTests.Support;

namespace Allocation.IntegrationTests;

public class OutboxSignalTests
{
    [Test]
    public void ACommitWakesTheLanesOfTheTypesItWroteAndNoOther()
    {
        var signal = new OutboxSignal();
        var downstream = signal.NextCommit(["Allocated", "LineCancelled"]);
        var mail = signal.NextCommit(["OutOfStock"]);

        signal.Committed(["LineCancelled"]);

        downstream.Wait(Eventually.Limit).ShouldBeTrue();
        mail.IsCompleted.ShouldBeFalse();
        signal.NextCommit(["OutOfStock"]).ShouldBeSameAs(mail);
        signal.NextCommit(["Allocated", "LineCancelled"]).IsCompleted.ShouldBeFalse("a lane waits for the commit after the one that woke it");
    }

    [Test]
    public void ACommitOfUnnamedTypesWakesEveryLane()
    {
        var signal = new OutboxSignal();
        var downstream = signal.NextCommit(["Allocated", "LineCancelled"]);
        var mail = signal.NextCommit(["OutOfStock"]);

        signal.Committed();

        Task.WaitAll([downstream, mail], Eventually.Limit).ShouldBeTrue();
    }
}
