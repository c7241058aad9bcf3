using Allocation.Application.Commands;
using Allocation.Application.Ports;
using Allocation.Domain;

namespace Allocation.UnitTests.Handlers;

public class PublishAllocatedTests : BusFixture
{
    [Test]
    public async Task PublishesTheLineWithTheEventsMessageId()
    {
        await Bus.PublishAsync(new Allocated("order-1", "POPULAR-CURTAINS", 4, "batch-1"), "message-42");

        Bus.Publisher.Published.ShouldBe([new LineMessage("order-1", "POPULAR-CURTAINS", 4, "batch-1", "message-42")]);
    }

    [Test]
    public async Task EachCommittedAllocationIsPublishedWithItsOwnMessageId()
    {
        await Bus.HandleAsync(
            new CreateBatch("batch-1", "POPULAR-CURTAINS", 10),
            new Allocate("order-1", "POPULAR-CURTAINS", 4),
            new Allocate("order-2", "POPULAR-CURTAINS", 5));

        Bus.Publisher.Published.Select(message => message.OrderId).ShouldBe(["order-1", "order-2"]);
        Bus.Publisher.Published.Select(message => message.MessageId).ShouldBe(Bus.Dispatched.Select(dispatched => dispatched.MessageId));
        Bus.Publisher.Published.Select(message => message.MessageId).ShouldBeUnique();
    }
}
