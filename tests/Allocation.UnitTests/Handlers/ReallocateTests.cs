using Allocation.Application.Commands;
using Allocation.Application.Ports;
using Allocation.Domain;
using Microsoft.Extensions.Logging;

namespace Allocation.UnitTests.Handlers;

public class ReallocateTests : BusFixture
{
    private static readonly DateOnly Eta = new(2025, 6, 1);

    [Test]
    public async Task ReallocatesALineToAnotherBatchWhenItsBatchShrinks()
    {
        await Bus.HandleAsync(
            new CreateBatch("batch-1", "INDIFFERENT-TABLE", 50, Eta),
            new CreateBatch("batch-2", "INDIFFERENT-TABLE", 50, Eta),
            new Allocate("order-1", "INDIFFERENT-TABLE", 20));

        await Bus.HandleAsync(new ChangeBatchQuantity("batch-1", 10));

        var product = Bus.UnitOfWork.Repository.Stored("INDIFFERENT-TABLE")!;
        product.Batches.Select(batch => batch.AvailableQuantity).ShouldBe([10, 30]);
        var reallocated = Bus.Dispatched.Single(dispatched => dispatched.Event.Equals(new Allocated("order-1", "INDIFFERENT-TABLE", 20, "batch-2")));
        Bus.Publisher.Published.ShouldBe([
            new LineMessage("order-1", "INDIFFERENT-TABLE", 20, "batch-1", Bus.Dispatched[0].MessageId),
            new LineMessage("order-1", "INDIFFERENT-TABLE", 20, "batch-2", reallocated.MessageId),
        ]);
        Bus.Notifier.Sent.ShouldBeEmpty();
    }

    [Test]
    public async Task ReallocatesEveryDeallocatedLine()
    {
        await Bus.HandleAsync(
            new CreateBatch("batch-1", "INDIFFERENT-TABLE", 50, null),
            new CreateBatch("batch-2", "INDIFFERENT-TABLE", 50, Eta),
            new Allocate("order-1", "INDIFFERENT-TABLE", 20),
            new Allocate("order-2", "INDIFFERENT-TABLE", 20));

        await Bus.HandleAsync(new ChangeBatchQuantity("batch-1", 5));

        Bus.Publisher.Published.Skip(2).Select(message => (message.OrderId, message.BatchRef))
            .ShouldBe([("order-2", "batch-2"), ("order-1", "batch-2")]);
        Bus.UnitOfWork.Repository.Stored("INDIFFERENT-TABLE")!.Batches.Select(batch => batch.AvailableQuantity).ShouldBe([5, 10]);
    }

    [Test]
    public async Task ALineWithNoRoomLeftIsOutOfStockAndTheStockTeamIsTold()
    {
        await Bus.HandleAsync(
            new CreateBatch("batch-1", "INDIFFERENT-TABLE", 50, null),
            new CreateBatch("batch-2", "INDIFFERENT-TABLE", 10, Eta),
            new Allocate("order-1", "INDIFFERENT-TABLE", 20));

        await Bus.HandleAsync(new ChangeBatchQuantity("batch-1", 10));

        var outOfStock = Bus.Dispatched.Single(dispatched => dispatched.Event is OutOfStock);
        outOfStock.Event.ShouldBe(new OutOfStock("INDIFFERENT-TABLE"));
        Bus.Notifier.Sent.Select(sent => (sent.Subject, sent.MessageId))
            .ShouldBe([("Out of stock for INDIFFERENT-TABLE", outOfStock.MessageId)]);
        Bus.Publisher.Published.Count.ShouldBe(1);
        Bus.UnitOfWork.Repository.Stored("INDIFFERENT-TABLE")!.Batches.Select(batch => batch.AvailableQuantity).ShouldBe([10, 10]);
    }

    [Test]
    public async Task TheDeallocatedEventOfAShrinkIsNotDispatchedTheChangeReallocatedItsLine()
    {
        await Bus.HandleAsync(
            new CreateBatch("batch-1", "INDIFFERENT-TABLE", 50, null),
            new CreateBatch("batch-2", "INDIFFERENT-TABLE", 50, Eta),
            new Allocate("order-1", "INDIFFERENT-TABLE", 20));

        await Bus.HandleAsync(new ChangeBatchQuantity("batch-1", 10));

        Bus.UnitOfWork.CommittedEvents.OfType<Deallocated>().ShouldHaveSingleItem();
        Bus.Dispatched.Select(dispatched => dispatched.Event.GetType().Name).ShouldBe(["Allocated", "Allocated"]);
        Bus.Log.Of("Reallocate").ShouldBeEmpty();
    }

    [Test]
    public async Task ADeallocatedEventOnItsOwnIsAllocatedAgainOrOutOfStock()
    {
        // As an outbox entry written by a version that reallocated in a second transaction: the line is in no batch.
        await Bus.HandleAsync(
            new CreateBatch("batch-1", "INDIFFERENT-TABLE", 10, null),
            new CreateBatch("batch-2", "INDIFFERENT-TABLE", 30, Eta));

        await Bus.PublishAsync(new Deallocated("order-1", "INDIFFERENT-TABLE", 20), "message-98");
        await Bus.PublishAsync(new Deallocated("order-2", "INDIFFERENT-TABLE", 20), "message-99");
        await Bus.DispatchAsync();

        Bus.UnitOfWork.Repository.Stored("INDIFFERENT-TABLE")!.Batches.Select(batch => batch.AvailableQuantity).ShouldBe([10, 10]);
        Bus.Dispatched.Select(dispatched => dispatched.Event).ShouldBe(
            [new Allocated("order-1", "INDIFFERENT-TABLE", 20, "batch-2"), new OutOfStock("INDIFFERENT-TABLE")]);
        Bus.Log.Of("Reallocate").Select(entry => (entry.Level, entry.Message)).ShouldBe(
            [(LogLevel.Warning, "Deallocated line of order order-2 for sku INDIFFERENT-TABLE could not be allocated again: out of stock")]);
    }

    [Test]
    public async Task ALineAllocatedAgainWithAnotherQuantityKeepsThatAllocation()
    {
        await Bus.HandleAsync(
            new CreateBatch("batch-1", "INDIFFERENT-TABLE", 50, null),
            new Allocate("order-1", "INDIFFERENT-TABLE", 20));
        var committedBefore = Bus.UnitOfWork.CommittedEvents.Count;

        await Bus.PublishAsync(new Deallocated("order-1", "INDIFFERENT-TABLE", 5), "message-99");

        Bus.UnitOfWork.CommittedEvents.Count.ShouldBe(committedBefore);
        Bus.UnitOfWork.Repository.Stored("INDIFFERENT-TABLE")!.Batches[0].Allocations
            .ShouldBe([new OrderLine("order-1", "INDIFFERENT-TABLE", 20)]);
        var superseded = Bus.Log.Of("Reallocate").ShouldHaveSingleItem();
        superseded.Level.ShouldBe(LogLevel.Information);
        superseded.Message.ShouldStartWith("Deallocated line of order order-1 for sku INDIFFERENT-TABLE was already allocated again: Order order-1 already has 20");
    }
}
