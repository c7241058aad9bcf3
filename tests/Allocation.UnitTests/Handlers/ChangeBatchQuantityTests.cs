using Allocation.Application.Bus;
using Allocation.Application.Commands;
using Allocation.Domain;

namespace Allocation.UnitTests.Handlers;

public class ChangeBatchQuantityTests : BusFixture
{
    [SetUp]
    public async Task StartWithOneBatch() => await Bus.HandleAsync(new CreateBatch("batch-1", "ADORABLE-SETTEE", 100));

    [Test]
    public async Task ChangesThePurchasedQuantity()
    {
        await Bus.SendAsync(new ChangeBatchQuantity("batch-1", 50));

        Bus.UnitOfWork.Repository.Stored("ADORABLE-SETTEE")!.Batches[0].PurchasedQuantity.ShouldBe(50);
    }

    [Test]
    public async Task DeallocatesEachLineThatNoLongerFitsAndAllocatesItAgainInTheSameCommit()
    {
        await Bus.SendAsync(new Allocate("order-1", "ADORABLE-SETTEE", 20));
        await Bus.SendAsync(new Allocate("order-2", "ADORABLE-SETTEE", 20));
        var committedBefore = Bus.UnitOfWork.CommittedEvents.Count;
        var commitsBefore = Bus.UnitOfWork.Commits;

        await Bus.SendAsync(new ChangeBatchQuantity("batch-1", 25));

        Bus.UnitOfWork.Commits.ShouldBe(commitsBefore + 1);
        Bus.UnitOfWork.CommittedEvents.Skip(committedBefore).ShouldBe([new Deallocated("order-2", "ADORABLE-SETTEE", 20), new OutOfStock("ADORABLE-SETTEE")]);
        Bus.UnitOfWork.Repository.Stored("ADORABLE-SETTEE")!.Batches[0].AvailableQuantity.ShouldBe(5);
    }

    [Test]
    public async Task ChangingAnUnknownBatchIsRefused()
    {
        var exception = await Should.ThrowAsync<UnknownBatchException>(() => Bus.SendAsync(new ChangeBatchQuantity("batch-9", 5)));

        exception.Reference.ShouldBe("batch-9");
    }

    [Test]
    public async Task ABatchMayBeChangedToZero()
    {
        await Bus.SendAsync(new ChangeBatchQuantity("batch-1", 0));

        Bus.UnitOfWork.Repository.Stored("ADORABLE-SETTEE")!.Batches[0].PurchasedQuantity.ShouldBe(0);
    }

    [TestCaseSource(nameof(InvalidCommands))]
    public async Task InvalidCommandsAreRefusedBeforeTheHandler(ChangeBatchQuantity command)
    {
        var lookups = Bus.UnitOfWork.Repository.Lookups;

        await Should.ThrowAsync<InvalidInputException>(() => Bus.SendAsync(command));

        Bus.UnitOfWork.Repository.Lookups.ShouldBe(lookups);
        Bus.UnitOfWork.Repository.Stored("ADORABLE-SETTEE")!.Batches[0].PurchasedQuantity.ShouldBe(100);
    }

    private static IEnumerable<TestCaseData> InvalidCommands()
    {
        yield return new TestCaseData(new ChangeBatchQuantity("", 1)).SetArgDisplayNames("empty reference");
        yield return new TestCaseData(new ChangeBatchQuantity(new string('x', 256), 1)).SetArgDisplayNames("reference of 256 chars");
        yield return new TestCaseData(new ChangeBatchQuantity("batch-1", -1)).SetArgDisplayNames("negative qty");
    }
}
