using Allocation.Domain;

namespace Allocation.UnitTests.Handlers;

public class SendOutOfStockNotificationTests : BusFixture
{
    [Test]
    public async Task TellsTheStockTeamWhichSkuIsOutOfStock()
    {
        await Bus.PublishAsync(new OutOfStock("BLUE-VASE"), "message-7");

        var sent = Bus.Notifier.Sent.ShouldHaveSingleItem();
        sent.Subject.ShouldBe("Out of stock for BLUE-VASE");
        sent.Body.ShouldBe("An order line for sku BLUE-VASE could not be allocated: no batch has enough stock.");
        sent.MessageId.ShouldBe("message-7");
    }
}
