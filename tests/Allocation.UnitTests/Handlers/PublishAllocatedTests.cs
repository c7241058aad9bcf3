using Allocation.Application.Commands;
using Allocation.Application.Ports;
using Allocation.Domain;
using Allocation.UnitTests.Fakes;

namespace Allocation.UnitTests.Handlers;

public class PublishAllocatedTests
{
    private FakeBus _bus = null!;

    [SetUp]
    public void StartEmpty() => _bus = new FakeBus();

    [TearDown]
    public async Task StopBus() => await _bus.DisposeAsync();

    [Test]
    public async Task PublishesTheLineWithTheEventsMessageId()
    {
        await _bus.PublishAsync(new Allocated("order-1", "POPULAR-CURTAINS", 4, "batch-1"), "message-42");

        _bus.Publisher.Published.ShouldBe([new LineAllocated("order-1", "POPULAR-CURTAINS", 4, "batch-1", "message-42")]);
    }

    [Test]
    public async Task EachCommittedAllocationIsPublishedWithItsOwnMessageId()
    {
        await _bus.HandleAsync(
            new CreateBatch("batch-1", "POPULAR-CURTAINS", 10),
            new Allocate("order-1", "POPULAR-CURTAINS", 4),
            new Allocate("order-2", "POPULAR-CURTAINS", 5));

        _bus.Publisher.Published.Select(message => message.OrderId).ShouldBe(["order-1", "order-2"]);
        _bus.Publisher.Published.Select(message => message.MessageId).ShouldBe(_bus.Dispatched.Select(dispatched => dispatched.MessageId));
        _bus.Publisher.Published.Select(message => message.MessageId).ShouldBeUnique();
    }
}
