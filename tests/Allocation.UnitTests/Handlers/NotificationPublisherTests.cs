using Allocation.Domain;
using Allocation.UnitTests.Fakes;
using FluentValidation;

namespace Allocation.UnitTests.Handlers;

public class NotificationPublisherTests
{
    private FakeBus _bus = null!;

    [SetUp]
    public void StartEmpty() => _bus = new FakeBus();

    [TearDown]
    public async Task StopBus() => await _bus.DisposeAsync();

    [TestCaseSource(nameof(InvalidEvents))]
    public async Task AnAllocatedEventThatFailsValidationReachesNoHandler(Allocated invalid)
    {
        await Should.ThrowAsync<ValidationException>(() => _bus.PublishAsync(invalid, "message-1"));

        _bus.Publisher.Published.ShouldBeEmpty();
    }

    [Test]
    public async Task AFailingHandlersExceptionReachesTheCaller()
    {
        var failure = new TimeoutException("Redis is down");
        _bus.Publisher.Failure = failure;

        var thrown = await Should.ThrowAsync<TimeoutException>(() => _bus.PublishAsync(new Allocated("order-1", "RED-CHAIR", 1, "batch-1"), "message-1"));

        thrown.ShouldBeSameAs(failure);
    }

    [Test]
    public async Task AFailingNotifiersExceptionReachesTheCaller()
    {
        var failure = new IOException("Mail server unreachable");
        _bus.Notifier.Failure = failure;

        var thrown = await Should.ThrowAsync<IOException>(() => _bus.PublishAsync(new OutOfStock("RED-CHAIR"), "message-1"));

        thrown.ShouldBeSameAs(failure);
    }

    private static IEnumerable<TestCaseData> InvalidEvents()
    {
        yield return new TestCaseData(new Allocated("order-1", "RED-CHAIR", 1, "")).SetArgDisplayNames("empty batch reference");
        yield return new TestCaseData(new Allocated("", "RED-CHAIR", 1, "batch-1")).SetArgDisplayNames("empty orderid");
        yield return new TestCaseData(new Allocated("order-1", new string('x', 256), 1, "batch-1")).SetArgDisplayNames("sku of 256 chars");
        yield return new TestCaseData(new Allocated("order-1", "RED-CHAIR", 0, "batch-1")).SetArgDisplayNames("qty 0");
    }
}
