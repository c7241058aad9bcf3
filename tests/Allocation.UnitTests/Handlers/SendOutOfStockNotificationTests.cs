using Allocation.Domain;
using Allocation.UnitTests.Fakes;

namespace Allocation.UnitTests.Handlers;

public class SendOutOfStockNotificationTests
{
    private FakeBus _bus = null!;

    [SetUp]
    public void StartEmpty() => _bus = new FakeBus();

    [TearDown]
    public async Task StopBus() => await _bus.DisposeAsync();

    [Test]
    public async Task TellsTheStockTeamWhichSkuIsOutOfStock()
    {
        await _bus.PublishAsync(new OutOfStock("BLUE-VASE"), "message-7");

        var sent = _bus.Notifier.Sent.ShouldHaveSingleItem();
        sent.Subject.ShouldBe("Out of stock for BLUE-VASE");
        sent.Body.ShouldContain("BLUE-VASE");
        sent.MessageId.ShouldBe("message-7");
    }
}
