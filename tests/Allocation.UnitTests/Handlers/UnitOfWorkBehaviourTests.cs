using Allocation.Application.Commands;
using Allocation.Application.Ports;
using Allocation.Domain;
using Allocation.UnitTests.Fakes;

namespace Allocation.UnitTests.Handlers;

public class UnitOfWorkBehaviourTests : BusFixture
{
    [SetUp]
    public async Task StartWithOneBatch() => await Bus.HandleAsync(new CreateBatch("batch-1", "MISTY-LAMP", 10));

    [Test]
    public async Task RetriesACommandThatConflictedWithAnotherWriter()
    {
        Bus.UnitOfWork.ConflictingCommits = 2;
        var attemptsBefore = Bus.UnitOfWork.CommitAttempts;

        var reference = await Bus.SendAsync(new Allocate("order-1", "MISTY-LAMP", 3));

        reference.ShouldBe("batch-1");
        (Bus.UnitOfWork.CommitAttempts - attemptsBefore).ShouldBe(3);
        Bus.UnitOfWork.CommittedEvents.ShouldBe([new Allocated("order-1", "MISTY-LAMP", 3, "batch-1")]);
        Bus.UnitOfWork.Repository.Stored("MISTY-LAMP")!.Batches[0].AvailableQuantity.ShouldBe(7);
    }

    [Test]
    public async Task GivesUpAfterFiveConflictingAttempts()
    {
        Bus.UnitOfWork.ConflictingCommits = 5;
        var attemptsBefore = Bus.UnitOfWork.CommitAttempts;

        await Should.ThrowAsync<ConcurrencyException>(() => Bus.SendAsync(new Allocate("order-1", "MISTY-LAMP", 3)));

        (Bus.UnitOfWork.CommitAttempts - attemptsBefore).ShouldBe(5);
        Bus.UnitOfWork.CommittedEvents.ShouldBeEmpty();
        Bus.UnitOfWork.Repository.Stored("MISTY-LAMP")!.Batches[0].AvailableQuantity.ShouldBe(10);
    }

    [Test]
    public async Task SucceedsOnTheFifthAttempt()
    {
        Bus.UnitOfWork.ConflictingCommits = 4;

        var reference = await Bus.SendAsync(new Allocate("order-1", "MISTY-LAMP", 3));

        reference.ShouldBe("batch-1");
        Bus.UnitOfWork.ConflictingCommits.ShouldBe(0);
    }

    [Test]
    public async Task DoesNotRetryARefusedCommand()
    {
        await Bus.SendAsync(new Allocate("order-1", "MISTY-LAMP", 3));
        var lookupsBefore = Bus.UnitOfWork.Repository.Lookups;

        await Should.ThrowAsync<LineConflictException>(() => Bus.SendAsync(new Allocate("order-1", "MISTY-LAMP", 4)));

        (Bus.UnitOfWork.Repository.Lookups - lookupsBefore).ShouldBe(1);
    }

    [Test]
    public async Task RollsBackWhatAFailingHandlerLeftUncommitted()
    {
        var batch = Batch.Restore("batch-1", "TALL-VASE", 20, null, allocatedQuantity: 20, [new OrderLine("order-9", "TALL-VASE", 2)]);
        await using var bus = new FakeBus(new Product("TALL-VASE", [batch], versionNumber: 3));

        await Should.ThrowAsync<InvalidOperationException>(() => bus.SendAsync(new ChangeBatchQuantity("batch-1", 10)));

        bus.UnitOfWork.DiscardedUnits.ShouldBe(1);
        bus.UnitOfWork.CommitAttempts.ShouldBe(0);
        bus.UnitOfWork.Repository.Seen.ShouldBeEmpty();
        bus.UnitOfWork.Repository.Stored("TALL-VASE")!.VersionNumber.ShouldBe(3);
    }
}
