using Allocation.Application.Commands;
using Allocation.Application.Ports;
using Allocation.Domain;
using Microsoft.Extensions.Logging;

namespace Allocation.UnitTests.Handlers;

/// <summary>How handling a message is logged: what operators alert on (errors) and follow an order by (its keys).</summary>
public class LoggingBehaviourTests : BusFixture
{
    private const string Category = "LoggingBehaviour";

    [SetUp]
    public async Task StartWithOneBatch()
    {
        await Bus.HandleAsync(new CreateBatch("batch-1", "RED-CHAIR", 10));
        Bus.Log.Clear();
    }

    [Test]
    public async Task AHandledCommandIsADebugLineWithItsTypeAndDuration()
    {
        await Bus.SendAsync(new Allocate("order-1", "RED-CHAIR", 3));

        var entry = Bus.Log.Of(Category).ShouldHaveSingleItem();
        entry.Level.ShouldBe(LogLevel.Debug);
        entry.Message.ShouldStartWith("Handled Allocate in ");
        entry.Message.ShouldEndWith(" ms");
    }

    [Test]
    public async Task ARefusalIsInformationWithTheReason()
    {
        await Should.ThrowAsync<InvalidSkuException>(() => Bus.SendAsync(new Allocate("order-1", "NO-SUCH-SKU", 3)));

        var entry = Bus.Log.Of(Category).ShouldHaveSingleItem();
        entry.Level.ShouldBe(LogLevel.Information);
        entry.Message.ShouldBe("Allocate rejected: Invalid sku NO-SUCH-SKU");
        entry.Exception.ShouldBeNull();
    }

    [Test]
    public async Task AnOutageIsOneWarningWithoutTheException()
    {
        Bus.UnitOfWork.CommitFailure = new UnavailableException("The disk is full.");

        await Should.ThrowAsync<UnavailableException>(() => Bus.SendAsync(new Allocate("order-1", "RED-CHAIR", 3)));

        var entry = Bus.Log.Of(Category).ShouldHaveSingleItem();
        entry.Level.ShouldBe(LogLevel.Warning);
        entry.Message.ShouldBe("Allocate not handled, try again later: The disk is full.");
        entry.Exception.ShouldBeNull();
    }

    [Test]
    public async Task AnythingElseIsAnErrorWithTheException()
    {
        var failure = new InvalidOperationException("The store broke.");
        Bus.UnitOfWork.CommitFailure = failure;

        await Should.ThrowAsync<InvalidOperationException>(() => Bus.SendAsync(new Allocate("order-1", "RED-CHAIR", 3)));

        var entry = Bus.Log.Of(Category).ShouldHaveSingleItem();
        entry.Level.ShouldBe(LogLevel.Error);
        entry.Message.ShouldBe("Allocate failed");
        entry.Exception.ShouldBeSameAs(failure);
    }

    [Test]
    public async Task ACancelledCommandIsNotLoggedAsAFailure()
    {
        Bus.UnitOfWork.CommitFailure = new OperationCanceledException();

        await Should.ThrowAsync<OperationCanceledException>(() => Bus.SendAsync(new Allocate("order-1", "RED-CHAIR", 3)));

        Bus.Log.Of(Category).ShouldBeEmpty();
    }

    [Test]
    public async Task LinesCarryTheOrderAndSkuAMessageNames()
    {
        await Should.ThrowAsync<InvalidSkuException>(() => Bus.SendAsync(new Allocate("order-1", "NO-SUCH-SKU", 3)));

        Bus.Log.Of(Category).Single().Scope.ShouldBe(
            new Dictionary<string, object?> { ["message_type"] = "Allocate", ["orderid"] = "order-1", ["sku"] = "NO-SUCH-SKU" }, ignoreOrder: true);
    }

    [Test]
    public async Task LinesCarryTheBatchAMessageNamesAndNoKeyItDoesNot()
    {
        await Should.ThrowAsync<UnknownBatchException>(() => Bus.SendAsync(new ChangeBatchQuantity("no-such-batch", 3)));

        Bus.Log.Of(Category).Single().Scope.ShouldBe(
            new Dictionary<string, object?> { ["message_type"] = "ChangeBatchQuantity", ["batchref"] = "no-such-batch" }, ignoreOrder: true);
    }
}
