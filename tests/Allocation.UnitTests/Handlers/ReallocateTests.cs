using Allocation.Application.Commands;
using Allocation.Application.Ports;
using Allocation.Domain;
using Allocation.UnitTests.Fakes;

namespace Allocation.UnitTests.Handlers;

public class ReallocateTests
{
    private static readonly DateOnly Eta = new(2025, 6, 1);

    private FakeBus _bus = null!;

    [SetUp]
    public void StartEmpty() => _bus = new FakeBus();

    [TearDown]
    public async Task StopBus() => await _bus.DisposeAsync();

    [Test]
    public async Task ReallocatesALineToAnotherBatchWhenItsBatchShrinks()
    {
        await _bus.HandleAsync(
            new CreateBatch("batch-1", "INDIFFERENT-TABLE", 50, Eta),
            new CreateBatch("batch-2", "INDIFFERENT-TABLE", 50, Eta),
            new Allocate("order-1", "INDIFFERENT-TABLE", 20));

        await _bus.HandleAsync(new ChangeBatchQuantity("batch-1", 10));

        var product = _bus.UnitOfWork.Repository.Stored("INDIFFERENT-TABLE")!;
        product.Batches.Select(batch => batch.AvailableQuantity).ShouldBe([10, 30]);
        var reallocated = _bus.Dispatched.Single(dispatched => dispatched.Event.Equals(new Allocated("order-1", "INDIFFERENT-TABLE", 20, "batch-2")));
        _bus.Publisher.Published.ShouldBe([
            new LineAllocated("order-1", "INDIFFERENT-TABLE", 20, "batch-1", _bus.Dispatched[0].MessageId),
            new LineAllocated("order-1", "INDIFFERENT-TABLE", 20, "batch-2", reallocated.MessageId),
        ]);
        _bus.Notifier.Sent.ShouldBeEmpty();
    }

    [Test]
    public async Task ReallocatesEveryDeallocatedLine()
    {
        await _bus.HandleAsync(
            new CreateBatch("batch-1", "INDIFFERENT-TABLE", 50, null),
            new CreateBatch("batch-2", "INDIFFERENT-TABLE", 50, Eta),
            new Allocate("order-1", "INDIFFERENT-TABLE", 20),
            new Allocate("order-2", "INDIFFERENT-TABLE", 20));

        await _bus.HandleAsync(new ChangeBatchQuantity("batch-1", 5));

        _bus.Publisher.Published.Skip(2).Select(message => (message.OrderId, message.BatchRef))
            .ShouldBe([("order-2", "batch-2"), ("order-1", "batch-2")]);
        _bus.UnitOfWork.Repository.Stored("INDIFFERENT-TABLE")!.Batches.Select(batch => batch.AvailableQuantity).ShouldBe([5, 10]);
    }

    [Test]
    public async Task ALineWithNoRoomLeftIsOutOfStockAndTheStockTeamIsTold()
    {
        await _bus.HandleAsync(
            new CreateBatch("batch-1", "INDIFFERENT-TABLE", 50, null),
            new CreateBatch("batch-2", "INDIFFERENT-TABLE", 10, Eta),
            new Allocate("order-1", "INDIFFERENT-TABLE", 20));

        await _bus.HandleAsync(new ChangeBatchQuantity("batch-1", 10));

        var outOfStock = _bus.Dispatched.Single(dispatched => dispatched.Event is OutOfStock);
        outOfStock.Event.ShouldBe(new OutOfStock("INDIFFERENT-TABLE"));
        _bus.Notifier.Sent.Select(sent => (sent.Subject, sent.MessageId))
            .ShouldBe([("Out of stock for INDIFFERENT-TABLE", outOfStock.MessageId)]);
        _bus.Publisher.Published.Count.ShouldBe(1);
        _bus.UnitOfWork.Repository.Stored("INDIFFERENT-TABLE")!.Batches.Select(batch => batch.AvailableQuantity).ShouldBe([10, 10]);
    }

    [Test]
    public async Task ALineAllocatedAgainWithAnotherQuantityKeepsThatAllocation()
    {
        await _bus.HandleAsync(
            new CreateBatch("batch-1", "INDIFFERENT-TABLE", 50, null),
            new Allocate("order-1", "INDIFFERENT-TABLE", 20));
        var committedBefore = _bus.UnitOfWork.CommittedEvents.Count;

        await _bus.PublishAsync(new Deallocated("order-1", "INDIFFERENT-TABLE", 5), "message-99");

        _bus.UnitOfWork.CommittedEvents.Count.ShouldBe(committedBefore);
        _bus.UnitOfWork.Repository.Stored("INDIFFERENT-TABLE")!.Batches[0].Allocations
            .ShouldBe([new OrderLine("order-1", "INDIFFERENT-TABLE", 20)]);
    }
}
