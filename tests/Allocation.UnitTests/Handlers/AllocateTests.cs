using Allocation.Application.Bus;
using Allocation.Application.Commands;
using Allocation.Domain;

namespace Allocation.UnitTests.Handlers;

public class AllocateTests : BusFixture
{
    [SetUp]
    public async Task StartWithOneBatch() => await Bus.HandleAsync(new CreateBatch("batch-1", "COMPLICATED-LAMP", 10));

    [Test]
    public async Task ReturnsTheAllocatedBatchReference()
    {
        await Bus.HandleAsync(new CreateBatch("batch-0", "COMPLICATED-LAMP", 10, new DateOnly(2025, 6, 1)));

        var reference = await Bus.SendAsync(new Allocate("order-1", "COMPLICATED-LAMP", 3));

        reference.ShouldBe("batch-1");
    }

    [Test]
    public async Task CommitsTheAllocationAndItsEvent()
    {
        await Bus.SendAsync(new Allocate("order-1", "COMPLICATED-LAMP", 3));

        Bus.UnitOfWork.Repository.Stored("COMPLICATED-LAMP")!.Batches[0].AvailableQuantity.ShouldBe(7);
        Bus.UnitOfWork.CommittedEvents.ShouldBe([new Allocated("order-1", "COMPLICATED-LAMP", 3, "batch-1")]);
    }

    [Test]
    public async Task AllocatingAnUnknownSkuIsAnInvalidSku()
    {
        var exception = await Should.ThrowAsync<InvalidSkuException>(() => Bus.SendAsync(new Allocate("order-1", "NONEXISTENT", 1)));

        (exception.Status, exception.Title, exception.Message).ShouldBe((400, "Invalid sku", "Invalid sku NONEXISTENT"));
        Bus.UnitOfWork.CommittedEvents.ShouldBeEmpty();
    }

    [Test]
    public async Task OutOfStockIsCommittedBeforeTheCallerIsTold()
    {
        var exception = await Should.ThrowAsync<OutOfStockException>(() => Bus.SendAsync(new Allocate("order-1", "COMPLICATED-LAMP", 11)));

        exception.Sku.ShouldBe("COMPLICATED-LAMP");
        (exception.Status, exception.Title, exception.Message).ShouldBe((409, "Out of stock", "Out of stock for sku COMPLICATED-LAMP"));
        Bus.UnitOfWork.CommittedEvents.ShouldBe([new OutOfStock("COMPLICATED-LAMP")]);
        Bus.UnitOfWork.Repository.Stored("COMPLICATED-LAMP")!.Batches[0].AvailableQuantity.ShouldBe(10);
    }

    [Test]
    public async Task AllocatingTheSameLineAgainAnswersTheSameBatchWithoutNewEvents()
    {
        var first = await Bus.SendAsync(new Allocate("order-1", "COMPLICATED-LAMP", 3));

        var second = await Bus.SendAsync(new Allocate("order-1", "COMPLICATED-LAMP", 3));

        second.ShouldBe(first);
        Bus.UnitOfWork.CommittedEvents.Count.ShouldBe(1);
        Bus.UnitOfWork.Repository.Stored("COMPLICATED-LAMP")!.Batches[0].AvailableQuantity.ShouldBe(7);
    }

    [Test]
    public async Task AllocatingTheSameOrderWithAnotherQuantityIsALineConflict()
    {
        await Bus.SendAsync(new Allocate("order-1", "COMPLICATED-LAMP", 3));

        await Should.ThrowAsync<LineConflictException>(() => Bus.SendAsync(new Allocate("order-1", "COMPLICATED-LAMP", 4)));

        Bus.UnitOfWork.Repository.Stored("COMPLICATED-LAMP")!.Batches[0].AvailableQuantity.ShouldBe(7);
    }

    [TestCaseSource(nameof(InvalidCommands))]
    public async Task InvalidCommandsAreRefusedBeforeTheHandler(Allocate command)
    {
        var lookups = Bus.UnitOfWork.Repository.Lookups;
        var commits = Bus.UnitOfWork.CommitAttempts;

        await Should.ThrowAsync<InvalidInputException>(() => Bus.SendAsync(command));

        Bus.UnitOfWork.Repository.Lookups.ShouldBe(lookups);
        Bus.UnitOfWork.CommitAttempts.ShouldBe(commits);
    }

    [Test]
    public async Task IdentifiersOf255CharactersAreAccepted()
    {
        var sku = new string('S', 255);
        await Bus.HandleAsync(new CreateBatch(new string('B', 255), sku, 10));

        var reference = await Bus.SendAsync(new Allocate(new string('O', 255), sku, 1));

        reference.ShouldBe(new string('B', 255));
    }

    private static IEnumerable<TestCaseData> InvalidCommands()
    {
        var tooLong = new string('x', 256);
        yield return new TestCaseData(new Allocate("", "COMPLICATED-LAMP", 1)).SetArgDisplayNames("empty orderid");
        yield return new TestCaseData(new Allocate(tooLong, "COMPLICATED-LAMP", 1)).SetArgDisplayNames("orderid of 256 chars");
        yield return new TestCaseData(new Allocate("order-1", "", 1)).SetArgDisplayNames("empty sku");
        yield return new TestCaseData(new Allocate("order-1", tooLong, 1)).SetArgDisplayNames("sku of 256 chars");
        yield return new TestCaseData(new Allocate("order-1", "COMPLICATED-LAMP", 0)).SetArgDisplayNames("qty 0");
        yield return new TestCaseData(new Allocate("order-1", "COMPLICATED-LAMP", -1)).SetArgDisplayNames("negative qty");
    }
}
