using Allocation.Application.Bus;
using Allocation.Application.Commands;
using Allocation.Application.Ports;
using Allocation.Domain;

namespace Allocation.UnitTests.Handlers;

public class DeallocateTests : BusFixture
{
    [SetUp]
    public async Task StartWithOneAllocatedLine() =>
        await Bus.HandleAsync(new CreateBatch("batch-1", "SHINY-TABLE", 10), new Allocate("order-1", "SHINY-TABLE", 4));

    [Test]
    public async Task ReturnsTheBatchTheLineLeft()
    {
        var reference = await Bus.SendAsync(new Deallocate("order-1", "SHINY-TABLE"));

        reference.ShouldBe("batch-1");
    }

    [Test]
    public async Task CommitsTheFreedStockAndTheCancellation()
    {
        await Bus.SendAsync(new Deallocate("order-1", "SHINY-TABLE"));

        Bus.UnitOfWork.Repository.Stored("SHINY-TABLE")!.Batches[0].AvailableQuantity.ShouldBe(10);
        Bus.UnitOfWork.CommittedEvents[^1].ShouldBe(new LineCancelled("order-1", "SHINY-TABLE", 4, "batch-1"));
    }

    [Test]
    public async Task PublishesTheCancellationOnLineDeallocatedAndDoesNotAllocateItAgain()
    {
        await Bus.HandleAsync(new CreateBatch("batch-2", "SHINY-TABLE", 10));

        await Bus.HandleAsync(new Deallocate("order-1", "SHINY-TABLE"));

        var cancelled = Bus.Dispatched.Single(dispatched => dispatched.Event is LineCancelled);
        Bus.Publisher.Deallocated.ShouldBe([new LineMessage("order-1", "SHINY-TABLE", 4, "batch-1", cancelled.MessageId)]);
        Bus.Publisher.Published.Count.ShouldBe(1);
        Bus.UnitOfWork.Repository.Stored("SHINY-TABLE")!.Batches.Select(batch => batch.AvailableQuantity).ShouldBe([10, 10]);
    }

    [Test]
    public async Task CancellingALineThatIsNotAllocatedIsNotFound()
    {
        var exception = await Should.ThrowAsync<LineNotAllocatedException>(() => Bus.SendAsync(new Deallocate("order-2", "SHINY-TABLE")));

        exception.Status.ShouldBe(404);
    }

    [Test]
    public async Task CancellingALineOfAnUnknownSkuIsNotFound()
    {
        await Should.ThrowAsync<LineNotAllocatedException>(() => Bus.SendAsync(new Deallocate("order-1", "NONEXISTENT")));
    }

    [TestCase("", "SHINY-TABLE", TestName = "empty orderid")]
    [TestCase("order-1", "", TestName = "empty sku")]
    public async Task InvalidCommandsAreRefusedBeforeTheHandler(string orderId, string sku)
    {
        await Should.ThrowAsync<InvalidInputException>(() => Bus.SendAsync(new Deallocate(orderId, sku)));
    }
}
