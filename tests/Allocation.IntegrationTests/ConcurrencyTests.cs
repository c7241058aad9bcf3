using Allocation.Application.Bus;
using Allocation.Application.Commands;
using Allocation.Application.Ports;
using Allocation.Domain;
using Allocation.Infrastructure.Persistence;
using Allocation.IntegrationTests.Support;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace Allocation.IntegrationTests;

/// <summary>
/// Writers that get in each other's way: two service instances (two processes' worth of writers) over one
/// file, and products that changed under a unit of work.
/// </summary>
[TestFixtureSource(typeof(Providers), nameof(Providers.All))]
public class ConcurrencyTests(string provider) : DatabaseFixture(provider)
{
    private const string Sku = "RED-CHAIR";

    private ServiceInstance _a = null!;
    private ServiceInstance _b = null!;

    [SetUp]
    public void Start()
    {
        _a = Instance();
        _b = Instance();
    }

    [TearDown]
    public async Task Stop()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    [Test]
    public async Task SavingAProductThatChangedSinceItWasLoadedIsRefusedAndChangesNothing()
    {
        await _a.SendAsync(new CreateBatch("batch-1", Sku, 10));

        await Should.ThrowAsync<ConcurrencyException>(() => _a.InUnitAsync(async uow =>
        {
            var product = await uow.Products.GetForOrderLineAsync(Sku, "order-1", default);
            uow.Connection.Execute("UPDATE products SET version_number = 7 WHERE sku = @Sku", new { Sku });
            product!.Allocate(new OrderLine("order-1", Sku, 1));
            await uow.CommitAsync(default);
        }));

        Database.VersionOf(Sku).ShouldBe(1);
        Database.AllocatedQuantityOf("batch-1").ShouldBe(0);
        Database.Allocations().ShouldBeEmpty();
        Database.Outbox().ShouldBeEmpty();
    }

    [Test]
    public async Task AddingAProductAnotherWriterAlreadyStoredIsRefusedAndChangesNothing()
    {
        await _a.SendAsync(new CreateBatch("batch-1", Sku, 10));

        await Should.ThrowAsync<ConcurrencyException>(() => _b.InUnitAsync(async uow =>
        {
            var stale = new Product(Sku);
            stale.AddBatch("batch-2", 5, null);
            uow.Products.Add(stale);
            await uow.CommitAsync(default);
        }));

        Database.Query<string>("SELECT reference FROM batches").ShouldBe(["batch-1"]);
        Database.VersionOf(Sku).ShouldBe(1);
    }

    [Test]
    public async Task AnInstanceKeptOffAProductWaitsOrRetriesUntilTheOtherCommitsAndThenSucceeds()
    {
        await _a.SendAsync(new CreateBatch("batch-1", Sku, 10));
        Task<string> fromB = null!;

        await _a.InUnitAsync(async uow =>
        {
            var product = await uow.Products.GetForOrderLineAsync(Sku, "order-a", default);
            fromB = Task.Run(() => _b.SendAsync(new Allocate("order-b", Sku, 1)));
            await Task.Delay(150);
            fromB.IsCompleted.ShouldBeFalse();
            product!.Allocate(new OrderLine("order-a", Sku, 1));
            await uow.CommitAsync(default);
        });

        (await fromB.WaitAsync(Eventually.Limit)).ShouldBe("batch-1");
        Database.Allocations().ShouldBe([("order-a", "batch-1"), ("order-b", "batch-1")]);
        Database.VersionOf(Sku).ShouldBe(1 + 2);
        Database.AllocatedQuantityOf("batch-1").ShouldBe(2);
    }

    [Test]
    public async Task ACommandLockedOutForTooLongGivesUpAfterItsLastAttemptAndChangesNothing()
    {
        if (Provider != Providers.Sqlite)
        {
            Assert.Ignore("SQLite's whole-file write lock; on PostgreSQL a writer waits for another's lock (up to lock_timeout) instead of retrying at once.");
        }

        await _a.SendAsync(new CreateBatch("batch-1", Sku, 10));

        using (Database.HoldWrites())
        {
            await Should.ThrowAsync<ConcurrencyException>(() => _b.SendAsync(new Allocate("order-b", Sku, 1)));
        }

        _b.Logs.CommandRetries.ShouldBe(Retries.ConflictAttempts - 1);
        Database.Allocations().ShouldBeEmpty();
        Database.VersionOf(Sku).ShouldBe(1);
    }

    [Test]
    public async Task TwoInstancesAllocatingTheSameProductAtOnceStoreEveryLine()
    {
        await _a.SendAsync(new CreateBatch("batch-1", Sku, 100));
        var orders = Enumerable.Range(0, 40).Select(i => (Instance: i % 2 == 0 ? _a : _b, OrderId: $"order-{i}")).ToList();

        var batches = await Task.WhenAll(orders.Select(order => Task.Run(() => order.Instance.SendAsync(new Allocate(order.OrderId, Sku, 1)))));

        batches.ShouldAllBe(batch => batch == "batch-1");
        Database.Allocations().Select(allocation => allocation.OrderId).ShouldBe(orders.Select(order => order.OrderId), ignoreOrder: true);
        Database.AllocatedQuantityOf("batch-1").ShouldBe(orders.Count);
        Database.VersionOf(Sku).ShouldBe(1 + orders.Count);
    }

    [Test]
    public async Task TheLastUnitOfStockWantedByTwoInstancesGoesToExactlyOneOfThem()
    {
        await _a.SendAsync(new CreateBatch("batch-1", Sku, 1));
        Task<string> fromA, fromB;

        using (Database.HoldWrites())
        {
            fromA = Task.Run(() => OutcomeAsync(_a, "order-a"));
            fromB = Task.Run(() => OutcomeAsync(_b, "order-b"));
            await Task.Delay(300);
        }

        var outcomes = await Task.WhenAll(fromA, fromB);
        outcomes.ShouldBe(["batch-1", "out of stock"], ignoreOrder: true);
        Database.Allocations().ShouldHaveSingleItem().OrderId.ShouldBe(outcomes[0] == "batch-1" ? "order-a" : "order-b");
        Database.AllocatedQuantityOf("batch-1").ShouldBe(1);
        Database.Outbox().Select(row => row.Type).ShouldBe(["Allocated", "OutOfStock"], ignoreOrder: true);
    }

    [Test]
    public async Task TwoInstancesCreatingTheSameNewSkuBothAddTheirBatchesToOneProduct()
    {
        Task fromA, fromB;

        using (Database.HoldWrites())
        {
            fromA = Task.Run(() => _a.SendAsync(new CreateBatch("batch-a", Sku, 10)));
            fromB = Task.Run(() => _b.SendAsync(new CreateBatch("batch-b", Sku, 20)));
            await Task.Delay(300);
        }

        await Task.WhenAll(fromA, fromB);
        Database.Query<string>("SELECT sku FROM products").ShouldBe([Sku]);
        Database.Query<(string, string)>("SELECT reference, sku FROM batches").ShouldBe([("batch-a", Sku), ("batch-b", Sku)], ignoreOrder: true);
        Database.VersionOf(Sku).ShouldBe(2);
    }

    [Test]
    public async Task TwoInstancesClaimingOneBatchReferenceForDifferentSkusConflict()
    {
        Task<string> fromA, fromB;

        using (Database.HoldWrites())
        {
            fromA = Task.Run(() => CreateOutcomeAsync(_a, Sku));
            fromB = Task.Run(() => CreateOutcomeAsync(_b, "BLUE-VASE"));
            await Task.Delay(300);
        }

        var outcomes = await Task.WhenAll(fromA, fromB);
        outcomes.ShouldBe(["created", "conflict"], ignoreOrder: true);
        Database.Query<(string, string)>("SELECT reference, sku FROM batches")
            .ShouldBe([("batch-1", outcomes[0] == "created" ? Sku : "BLUE-VASE")]);
    }

    private ServiceInstance Instance() => CreateInstance(new Dictionary<string, string?> { ["Sqlite:BusyTimeoutMs"] = "50" });

    private static async Task<string> OutcomeAsync(ServiceInstance instance, string orderId)
    {
        try
        {
            return await instance.SendAsync(new Allocate(orderId, Sku, 1));
        }
        catch (OutOfStockException)
        {
            return "out of stock";
        }
    }

    private static async Task<string> CreateOutcomeAsync(ServiceInstance instance, string sku)
    {
        try
        {
            await instance.SendAsync(new CreateBatch("batch-1", sku, 10));
            return "created";
        }
        catch (BatchConflictException)
        {
            return "conflict";
        }
    }
}
