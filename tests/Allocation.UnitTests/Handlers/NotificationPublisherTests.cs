using Allocation.Application.Bus;
using Allocation.Application.Ports;
using Allocation.Domain;
using Microsoft.Extensions.Logging;

namespace Allocation.UnitTests.Handlers;

public class NotificationPublisherTests : BusFixture
{
    [TestCaseSource(nameof(InvalidEvents))]
    public async Task AnAllocatedEventThatFailsValidationReachesNoHandler(Allocated invalid)
    {
        await Should.ThrowAsync<InvalidInputException>(() => Bus.PublishAsync(invalid, "message-1"));

        Bus.Publisher.Published.ShouldBeEmpty();
    }

    [Test]
    public async Task AFailingHandlersExceptionReachesTheCaller()
    {
        var failure = new TimeoutException("Redis is down");
        Bus.Publisher.Failure = failure;

        var thrown = await Should.ThrowAsync<TimeoutException>(() => Bus.PublishAsync(new Allocated("order-1", "RED-CHAIR", 1, "batch-1"), "message-1"));

        thrown.ShouldBeSameAs(failure);
    }

    [Test]
    public async Task AFailingNotifiersExceptionReachesTheCaller()
    {
        var failure = new IOException("Mail server unreachable");
        Bus.Notifier.Failure = failure;

        var thrown = await Should.ThrowAsync<IOException>(() => Bus.PublishAsync(new OutOfStock("RED-CHAIR"), "message-1"));

        thrown.ShouldBeSameAs(failure);
    }

    [Test]
    public async Task AFailingHandlerIsLoggedAsAWarningNamingItAndTheEvent()
    {
        var failure = new TimeoutException("Redis is down");
        Bus.Publisher.Failure = failure;

        await Should.ThrowAsync<TimeoutException>(() => Bus.PublishAsync(new Allocated("order-1", "RED-CHAIR", 1, "batch-1"), "message-1"));

        var entry = Bus.Log.Of("NotificationPublisher").ShouldHaveSingleItem();
        entry.Level.ShouldBe(LogLevel.Warning);
        entry.Message.ShouldBe("PublishAllocated failed to handle Allocated");
        entry.Exception.ShouldBeSameAs(failure);
        entry.Scope.ShouldBe(
            new Dictionary<string, object?> { ["message_type"] = "Allocated", ["orderid"] = "order-1", ["sku"] = "RED-CHAIR", ["batchref"] = "batch-1" }, ignoreOrder: true);
    }

    [Test]
    public async Task AnOutageOrAnEventWaitingItsTurnIsLeftToTheOutboxToReport()
    {
        Bus.Publisher.Failure = new UnavailableException("Redis is not connected.");
        await Should.ThrowAsync<UnavailableException>(() => Bus.PublishAsync(new Allocated("order-1", "RED-CHAIR", 1, "batch-1"), "message-1"));
        Bus.Publisher.Failure = new EventContext.NotInTurnException();

        await Should.ThrowAsync<EventContext.NotInTurnException>(() => Bus.PublishAsync(new Allocated("order-2", "RED-CHAIR", 1, "batch-1"), "message-2"));

        Bus.Log.Of("NotificationPublisher").ShouldBeEmpty();
    }

    [Test]
    public async Task AnEventHandledIsADebugLine()
    {
        await Bus.PublishAsync(new Allocated("order-1", "RED-CHAIR", 1, "batch-1"), "message-1");

        var entry = Bus.Log.Of("NotificationPublisher").ShouldHaveSingleItem();
        (entry.Level, entry.Message).ShouldBe((LogLevel.Debug, "Handled Allocated"));
    }

    private static IEnumerable<TestCaseData> InvalidEvents()
    {
        yield return new TestCaseData(new Allocated("order-1", "RED-CHAIR", 1, "")).SetArgDisplayNames("empty batch reference");
        yield return new TestCaseData(new Allocated("", "RED-CHAIR", 1, "batch-1")).SetArgDisplayNames("empty orderid");
        yield return new TestCaseData(new Allocated("order-1", new string('x', 256), 1, "batch-1")).SetArgDisplayNames("sku of 256 chars");
        yield return new TestCaseData(new Allocated("order-1", "RED-CHAIR", 0, "batch-1")).SetArgDisplayNames("qty 0");
    }
}
