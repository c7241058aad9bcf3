using Allocation.Application.Commands;
using Allocation.Application.Ports;
using Allocation.Domain;
using Allocation.UnitTests.Fakes;

namespace Allocation.UnitTests.Handlers;

public class UnitOfWorkBehaviourTests
{
    private FakeBus _bus = null!;

    [SetUp]
    public async Task StartWithOneBatch()
    {
        _bus = new FakeBus();
        await _bus.HandleAsync(new CreateBatch("batch-1", "MISTY-LAMP", 10));
    }

    [TearDown]
    public async Task StopBus() => await _bus.DisposeAsync();

    [Test]
    public async Task RetriesACommandThatConflictedWithAnotherWriter()
    {
        _bus.UnitOfWork.ConflictingCommits = 2;
        var attemptsBefore = _bus.UnitOfWork.CommitAttempts;

        var reference = await _bus.SendAsync(new Allocate("order-1", "MISTY-LAMP", 3));

        reference.ShouldBe("batch-1");
        (_bus.UnitOfWork.CommitAttempts - attemptsBefore).ShouldBe(3);
        _bus.UnitOfWork.CommittedEvents.ShouldBe([new Allocated("order-1", "MISTY-LAMP", 3, "batch-1")]);
        _bus.UnitOfWork.Repository.Stored("MISTY-LAMP")!.Batches[0].AvailableQuantity.ShouldBe(7);
    }

    [Test]
    public async Task GivesUpAfterFiveConflictingAttempts()
    {
        _bus.UnitOfWork.ConflictingCommits = 5;
        var attemptsBefore = _bus.UnitOfWork.CommitAttempts;

        await Should.ThrowAsync<ConcurrencyException>(() => _bus.SendAsync(new Allocate("order-1", "MISTY-LAMP", 3)));

        (_bus.UnitOfWork.CommitAttempts - attemptsBefore).ShouldBe(5);
        _bus.UnitOfWork.CommittedEvents.ShouldBeEmpty();
        _bus.UnitOfWork.Repository.Stored("MISTY-LAMP")!.Batches[0].AvailableQuantity.ShouldBe(10);
    }

    [Test]
    public async Task SucceedsOnTheFifthAttempt()
    {
        _bus.UnitOfWork.ConflictingCommits = 4;

        var reference = await _bus.SendAsync(new Allocate("order-1", "MISTY-LAMP", 3));

        reference.ShouldBe("batch-1");
        _bus.UnitOfWork.ConflictingCommits.ShouldBe(0);
    }

    [Test]
    public async Task DoesNotRetryARefusedCommand()
    {
        await _bus.SendAsync(new Allocate("order-1", "MISTY-LAMP", 3));
        var lookupsBefore = _bus.UnitOfWork.Repository.Lookups;

        await Should.ThrowAsync<LineConflictException>(() => _bus.SendAsync(new Allocate("order-1", "MISTY-LAMP", 4)));

        (_bus.UnitOfWork.Repository.Lookups - lookupsBefore).ShouldBe(1);
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
