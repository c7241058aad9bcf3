using Allocation.Application.Bus;
using Allocation.Application.Commands;
using Allocation.Application.Ports;
using Allocation.Domain;
using Allocation.Infrastructure.Persistence;
using Allocation.IntegrationTests.Support;
using Allocation.Testing;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace Allocation.IntegrationTests;

/// <summary>
/// Writers that get in each other's way: two service instances (two processes' worth of writers) over one
/// file, and products that changed under a unit of work.
/// </summary>
public class ConcurrencyTests
{
    private const string Sku = "RED-CHAIR";

    private TestDatabase _database = null!;
    private ServiceInstance _a = null!;
    private ServiceInstance _b = null!;

    [SetUp]
    public void Start()
    {
        _database = new TestDatabase();
        _a = Instance();
        _b = Instance();
    }

    [TearDown]
    public async Task Stop()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        _database.Dispose();
    }

    [Test]
    public async Task SavingAProductThatChangedSinceItWasLoadedIsRefusedAndChangesNothing()
    {
        await _a.SendAsync(new CreateBatch("batch-1", Sku, 10));
        await using var scope = _a.CreateScope();
        var uow = scope.ServiceProvider.GetRequiredService<SqliteUnitOfWork>();
        var product = await uow.Products.GetForOrderLineAsync(Sku, "order-1", default);
        var connection = await uow.ConnectionAsync(default);
        connection.Execute("UPDATE products SET version_number = 7 WHERE sku = @Sku", new { Sku });
        product!.Allocate(new OrderLine("order-1", Sku, 1));

        await Should.ThrowAsync<ConcurrencyException>(() => uow.CommitAsync(default).AsTask());

        connection.ExecuteScalar<int>("SELECT version_number FROM products").ShouldBe(7);
        connection.ExecuteScalar<int>("SELECT allocated_quantity FROM batches").ShouldBe(0);
        connection.ExecuteScalar<int>("SELECT count(*) FROM allocations").ShouldBe(0);
        connection.ExecuteScalar<int>("SELECT count(*) FROM outbox").ShouldBe(0);
    }

    [Test]
    public async Task AddingAProductAnotherWriterAlreadyStoredIsRefusedAndChangesNothing()
    {
        await _a.SendAsync(new CreateBatch("batch-1", Sku, 10));

        await using (var scope = _b.CreateScope())
        {
            var uow = scope.ServiceProvider.GetRequiredService<SqliteUnitOfWork>();
            var stale = new Product(Sku);
            stale.AddBatch("batch-2", 5, null);
            uow.Products.Add(stale);

            await Should.ThrowAsync<ConcurrencyException>(() => uow.CommitAsync(default).AsTask());
        }

        _database.Query<string>("SELECT reference FROM batches").ShouldBe(["batch-1"]);
        _database.VersionOf(Sku).ShouldBe(1);
    }

    [Test]
    public async Task AnInstanceLockedOutByAnotherRetriesTheWholeCommandAndThenSucceeds()
    {
        await _a.SendAsync(new CreateBatch("batch-1", Sku, 10));
        Task<string> fromB;

        await using (var scope = _a.CreateScope())
        {
            var uow = scope.ServiceProvider.GetRequiredService<SqliteUnitOfWork>();
            var product = await uow.Products.GetForOrderLineAsync(Sku, "order-a", default);
            fromB = Task.Run(() => _b.SendAsync(new Allocate("order-b", Sku, 1)));
            await Eventually.Until(() => _b.Logs.CommandRetries > 0, "instance B, locked out, retries its command");
            product!.Allocate(new OrderLine("order-a", Sku, 1));
            await uow.CommitAsync(default);
        }

        (await fromB.WaitAsync(Eventually.Limit)).ShouldBe("batch-1");
        _b.Logs.CommandRetries.ShouldBeGreaterThan(0);
        _database.Allocations().ShouldBe([("order-a", "batch-1"), ("order-b", "batch-1")]);
        _database.VersionOf(Sku).ShouldBe(1 + 2);
        _database.AllocatedQuantityOf("batch-1").ShouldBe(2);
    }

    [Test]
    public async Task ACommandLockedOutForTooLongGivesUpAfterItsLastAttemptAndChangesNothing()
    {
        await _a.SendAsync(new CreateBatch("batch-1", Sku, 10));

        using (new ForeignWriteLock(_database))
        {
            await Should.ThrowAsync<ConcurrencyException>(() => _b.SendAsync(new Allocate("order-b", Sku, 1)));
        }

        _b.Logs.CommandRetries.ShouldBe(UnitOfWorkBehaviour<Allocate, string>.MaxAttempts - 1);
        _database.Allocations().ShouldBeEmpty();
        _database.VersionOf(Sku).ShouldBe(1);
    }

    [Test]
    public async Task TwoInstancesAllocatingTheSameProductAtOnceStoreEveryLine()
    {
        await _a.SendAsync(new CreateBatch("batch-1", Sku, 100));
        var orders = Enumerable.Range(0, 40).Select(i => (Instance: i % 2 == 0 ? _a : _b, OrderId: $"order-{i}")).ToList();

        var batches = await Task.WhenAll(orders.Select(order => Task.Run(() => order.Instance.SendAsync(new Allocate(order.OrderId, Sku, 1)))));

        batches.ShouldAllBe(batch => batch == "batch-1");
        _database.Allocations().Select(allocation => allocation.OrderId).ShouldBe(orders.Select(order => order.OrderId), ignoreOrder: true);
        _database.AllocatedQuantityOf("batch-1").ShouldBe(orders.Count);
        _database.VersionOf(Sku).ShouldBe(1 + orders.Count);
    }

    [Test]
    public async Task TheLastUnitOfStockWantedByTwoInstancesGoesToExactlyOneOfThem()
    {
        await _a.SendAsync(new CreateBatch("batch-1", Sku, 1));
        Task<string> fromA, fromB;

        using (new ForeignWriteLock(_database))
        {
            fromA = Task.Run(() => OutcomeAsync(_a, "order-a"));
            fromB = Task.Run(() => OutcomeAsync(_b, "order-b"));
            await Task.Delay(300);
        }

        var outcomes = await Task.WhenAll(fromA, fromB);
        outcomes.ShouldBe(["batch-1", "out of stock"], ignoreOrder: true);
        _database.Allocations().ShouldHaveSingleItem().OrderId.ShouldBe(outcomes[0] == "batch-1" ? "order-a" : "order-b");
        _database.AllocatedQuantityOf("batch-1").ShouldBe(1);
        _database.Outbox().Select(row => row.Type).ShouldBe(["Allocated", "OutOfStock"], ignoreOrder: true);
    }

    [Test]
    public async Task TwoInstancesCreatingTheSameNewSkuBothAddTheirBatchesToOneProduct()
    {
        Task fromA, fromB;

        using (new ForeignWriteLock(_database))
        {
            fromA = Task.Run(() => _a.SendAsync(new CreateBatch("batch-a", Sku, 10)));
            fromB = Task.Run(() => _b.SendAsync(new CreateBatch("batch-b", Sku, 20)));
            await Task.Delay(300);
        }

        await Task.WhenAll(fromA, fromB);
        _database.Query<string>("SELECT sku FROM products").ShouldBe([Sku]);
        _database.Query<(string, string)>("SELECT reference, sku FROM batches").ShouldBe([("batch-a", Sku), ("batch-b", Sku)], ignoreOrder: true);
        _database.VersionOf(Sku).ShouldBe(2);
    }

    [Test]
    public async Task TwoInstancesClaimingOneBatchReferenceForDifferentSkusConflict()
    {
        Task<string> fromA, fromB;

        using (new ForeignWriteLock(_database))
        {
            fromA = Task.Run(() => CreateOutcomeAsync(_a, Sku));
            fromB = Task.Run(() => CreateOutcomeAsync(_b, "BLUE-VASE"));
            await Task.Delay(300);
        }

        var outcomes = await Task.WhenAll(fromA, fromB);
        outcomes.ShouldBe(["created", "conflict"], ignoreOrder: true);
        _database.Query<(string, string)>("SELECT reference, sku FROM batches")
            .ShouldBe([("batch-1", outcomes[0] == "created" ? Sku : "BLUE-VASE")]);
    }

    private ServiceInstance Instance() =>
        ServiceInstance.Create(_database.ConnectionString, new Dictionary<string, string?> { ["Sqlite:BusyTimeoutMs"] = "50" });

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
