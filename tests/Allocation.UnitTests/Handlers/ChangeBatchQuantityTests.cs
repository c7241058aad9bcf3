using Allocation.Application.Commands;
using Allocation.Domain;
using Allocation.UnitTests.Fakes;
using FluentValidation;

namespace Allocation.UnitTests.Handlers;

public class ChangeBatchQuantityTests
{
    private FakeBus _bus = null!;

    [SetUp]
    public async Task StartWithOneBatch()
    {
        _bus = new FakeBus();
        await _bus.HandleAsync(new CreateBatch("batch-1", "ADORABLE-SETTEE", 100));
    }

    [TearDown]
    public async Task StopBus() => await _bus.DisposeAsync();

    [Test]
    public async Task ChangesThePurchasedQuantity()
    {
        await _bus.SendAsync(new ChangeBatchQuantity("batch-1", 50));

        _bus.UnitOfWork.Repository.Stored("ADORABLE-SETTEE")!.Batches[0].PurchasedQuantity.ShouldBe(50);
    }

    [Test]
    public async Task CommitsADeallocatedEventForEachLineThatNoLongerFits()
    {
        await _bus.SendAsync(new Allocate("order-1", "ADORABLE-SETTEE", 20));
        await _bus.SendAsync(new Allocate("order-2", "ADORABLE-SETTEE", 20));
        var committedBefore = _bus.UnitOfWork.CommittedEvents.Count;

        await _bus.SendAsync(new ChangeBatchQuantity("batch-1", 25));

        _bus.UnitOfWork.CommittedEvents.Skip(committedBefore).ShouldBe([new Deallocated("order-2", "ADORABLE-SETTEE", 20)]);
        _bus.UnitOfWork.Repository.Stored("ADORABLE-SETTEE")!.Batches[0].AvailableQuantity.ShouldBe(5);
    }

    [Test]
    public async Task ChangingAnUnknownBatchIsRefused()
    {
        var exception = await Should.ThrowAsync<UnknownBatchException>(() => _bus.SendAsync(new ChangeBatchQuantity("batch-9", 5)));

        exception.Reference.ShouldBe("batch-9");
    }

    [Test]
    public async Task ABatchMayBeChangedToZero()
    {
        await _bus.SendAsync(new ChangeBatchQuantity("batch-1", 0));

        _bus.UnitOfWork.Repository.Stored("ADORABLE-SETTEE")!.Batches[0].PurchasedQuantity.ShouldBe(0);
    }

    [TestCaseSource(nameof(InvalidCommands))]
    public async Task InvalidCommandsAreRefusedBeforeTheHandler(ChangeBatchQuantity command)
    {
        var lookups = _bus.UnitOfWork.Repository.Lookups;

        await Should.ThrowAsync<ValidationException>(() => _bus.SendAsync(command));

        _bus.UnitOfWork.Repository.Lookups.ShouldBe(lookups);
        _bus.UnitOfWork.Repository.Stored("ADORABLE-SETTEE")!.Batches[0].PurchasedQuantity.ShouldBe(100);
    }

    private static IEnumerable<TestCaseData> InvalidCommands()
    {
        yield return new TestCaseData(new ChangeBatchQuantity("", 1)).SetArgDisplayNames("empty reference");
        yield return new TestCaseData(new ChangeBatchQuantity(new string('x', 256), 1)).SetArgDisplayNames("reference of 256 chars");
        yield return new TestCaseData(new ChangeBatchQuantity("batch-1", -1)).SetArgDisplayNames("negative qty");
    }
}
