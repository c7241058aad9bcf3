using Allocation.Infrastructure.Outbox;
using Allocation.Infrastructure.Persistence;
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

    [Test]
    public void ALaneThatLookedBeforeTheCommitsIsHandedTheirEntriesOfItsTypesInCommitOrder()
    {
        var signal = new OutboxSignal();
        signal.Committed(["Allocated"], [Entry(1, "Allocated")]);
        signal.NextCommit(["Allocated", "LineCancelled"]);
        signal.NextCommit(["OutOfStock"]);

        signal.Committed(["Allocated", "OutOfStock"], [Entry(2, "Allocated"), Entry(3, "OutOfStock")]);
        signal.Committed(["LineCancelled", "Allocated"], [Entry(4, "LineCancelled"), Entry(5, "Allocated")]);

        signal.TakeCommitted(["Allocated", "LineCancelled"])!.Select(entry => entry.Id).ShouldBe([2, 4, 5]);
        signal.TakeCommitted(["OutOfStock"])!.Select(entry => entry.Id).ShouldBe([3]);
        signal.TakeCommitted(["OutOfStock"]).ShouldBeNull("what was taken is not handed over twice");
    }

    [Test]
    public void AGapInTheIdsMeansAnotherWriterCommittedInBetweenAndTheLaneReads()
    {
        var signal = new OutboxSignal();
        signal.Committed(["Allocated"], [Entry(1, "Allocated")]);
        signal.NextCommit(["Allocated"]);

        signal.Committed(["Allocated"], [Entry(3, "Allocated")]);
        signal.Committed(["Allocated"], [Entry(4, "Allocated")]);

        signal.TakeCommitted(["Allocated"]).ShouldBeNull();
    }

    [Test]
    public void ACommitWhoseEntriesAreNotKnownHandsNothingOverUntilTheLaneLooksAgain()
    {
        var signal = new OutboxSignal();
        signal.NextCommit(["Allocated"]);
        signal.Committed(["Allocated"], [Entry(1, "Allocated")]);
        signal.TakeCommitted(["Allocated"]).ShouldBeNull("the first commit has no entry before it to follow");

        signal.NextCommit(["Allocated"]);
        signal.Committed(["Allocated"], [Entry(2, "Allocated")]);
        signal.Committed();
        signal.Committed(["Allocated"], [Entry(3, "Allocated")]);
        signal.TakeCommitted(["Allocated"]).ShouldBeNull("another instance's commit came in between");

        signal.NextCommit(["Allocated"]);
        signal.Committed(["Allocated"], [Entry(4, "Allocated")]);
        signal.TakeCommitted(["Allocated"])!.Select(entry => entry.Id).ShouldBe([4]);
    }

    private static OutboxEntry Entry(long id, string type) => new() { Id = id, Type = type, MessageId = $"m-{id}", Payload = "{}" };
}
