using System.Text.Json;
using Allocation.Application.Commands;
using Allocation.Application.Ports;
using Allocation.Domain;
using Allocation.Infrastructure.Persistence;
using Allocation.IntegrationTests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Allocation.IntegrationTests;

[TestFixtureSource(typeof(Providers), nameof(Providers.All))]
public class ProductRepositoryTests(string provider) : ServiceFixture(provider)
{
    private const string Sku = "RED-CHAIR";
    private static readonly DateOnly Soon = new(2031, 5, 17);
    private static readonly DateOnly Later = new(2031, 9, 1);

    [Test]
    public async Task AnAddedProductIsReadBackWithItsBatchesInTheOrderTheyWereAdded()
    {
        await InUnitAsync(async uow =>
        {
            var product = new Product(Sku);
            product.AddBatch("batch-later", 20, Later);
            product.AddBatch("batch-stock", 10, null);
            product.AddBatch("batch-soon", 5, Soon);
            uow.Products.Add(product);
            await uow.CommitAsync(default);
        });

        var loaded = await InUnitAsync(uow => uow.Products.GetAsync(Sku, default).AsTask());

        loaded.ShouldNotBeNull();
        loaded.Sku.ShouldBe(Sku);
        loaded.VersionNumber.ShouldBe(3);
        loaded.Batches.Select(batch => (batch.Reference, batch.Sku, batch.Eta, batch.PurchasedQuantity, batch.AllocatedQuantity)).ShouldBe(
        [
            ("batch-later", Sku, (DateOnly?)Later, 20, 0),
            ("batch-stock", Sku, null, 10, 0),
            ("batch-soon", Sku, Soon, 5, 0),
        ]);
    }

    [Test]
    public async Task AllocationsAndAllocatedQuantitiesArePersisted()
    {
        await SeedAsync(("batch-1", 10, null), ("batch-2", 10, Soon));

        await InUnitAsync(async uow =>
        {
            var product = (await uow.Products.GetAsync(Sku, default))!;
            product.Allocate(new OrderLine("order-1", Sku, 6));
            product.Allocate(new OrderLine("order-2", Sku, 3));
            product.Allocate(new OrderLine("order-3", Sku, 4));
            await uow.CommitAsync(default);
        });

        Database.Query<(string, string, int, string)>(
            "SELECT a.orderid, a.sku, a.qty, b.reference FROM allocations a JOIN batches b ON b.id = a.batch_id ORDER BY a.id")
            .ShouldBe([("order-1", Sku, 6, "batch-1"), ("order-2", Sku, 3, "batch-1"), ("order-3", Sku, 4, "batch-2")]);
        var loaded = await InUnitAsync(uow => uow.Products.GetAsync(Sku, default).AsTask());
        loaded!.Batches.Select(batch => batch.AllocatedQuantity).ShouldBe([9, 4]);
        loaded.VersionNumber.ShouldBe(2 + 3);
    }

    [Test]
    public async Task LoadingForAnOrderLineBringsThatOrdersLineAndNoOther()
    {
        await SeedAsync(("batch-1", 10, null), ("batch-2", 10, Soon));
        await AllocateInOneUnitAsync(Enumerable.Range(0, 20).Select(i => ($"order-{i}", 1)));

        var product = await InUnitAsync(uow => uow.Products.GetForOrderLineAsync(Sku, "order-14", default).AsTask());

        product.ShouldNotBeNull();
        product.Batches[0].Allocations.ShouldBeEmpty();
        product.Batches[1].Allocations.ShouldBe([new OrderLine("order-14", Sku, 1)]);
        product.Batches.Select(batch => batch.AllocatedQuantity).ShouldBe([10, 10]);
    }

    [Test]
    public async Task LoadingForAnOrderWithoutALineBringsNoLines()
    {
        await SeedAsync(("batch-1", 10, null));
        await AllocateInOneUnitAsync(Enumerable.Range(0, 5).Select(i => ($"order-{i}", 2)));

        var product = await InUnitAsync(uow => uow.Products.GetForOrderLineAsync(Sku, "order-new", default).AsTask());

        product!.Batches[0].Allocations.ShouldBeEmpty();
        product.Batches[0].AllocatedQuantity.ShouldBe(10);
    }

    [Test]
    public async Task LoadingForABatchChangeBringsOnlyTheNewestLinesTheNewQuantityNoLongerCovers()
    {
        await SeedAsync(("batch-1", 10, null), ("batch-2", 10, Soon));
        await AllocateInOneUnitAsync(Enumerable.Range(0, 15).Select(i => ($"order-{i}", 1)));

        var product = await InUnitAsync(uow => uow.Products.GetForBatchChangeAsync("batch-1", 7, default).AsTask());

        product.ShouldNotBeNull();
        product.Batches[0].Allocations.Select(line => line.OrderId).ShouldBe(["order-7", "order-8", "order-9"]);
        product.Batches[0].AllocatedQuantity.ShouldBe(10);
        product.Batches[1].Allocations.ShouldBeEmpty();
    }

    [Test]
    public async Task LoadingForABatchChangeStopsAtTheLineThatFreesEnough()
    {
        await SeedAsync(("batch-1", 11, null));
        await AllocateInOneUnitAsync([("order-a", 2), ("order-b", 5), ("order-c", 1), ("order-d", 3)]);

        var shrinkByThree = await InUnitAsync(uow => uow.Products.GetForBatchChangeAsync("batch-1", 8, default).AsTask());
        var shrinkByFive = await InUnitAsync(uow => uow.Products.GetForBatchChangeAsync("batch-1", 6, default).AsTask());

        shrinkByThree!.Batches[0].Allocations.Select(line => line.OrderId).ShouldBe(["order-d"]);
        shrinkByFive!.Batches[0].Allocations.Select(line => line.OrderId).ShouldBe(["order-b", "order-c", "order-d"]);
    }

    [Test]
    public async Task LoadingForABatchChangeThatStillCoversEveryLineBringsNoLines()
    {
        await SeedAsync(("batch-1", 10, null));
        await AllocateInOneUnitAsync([("order-a", 4), ("order-b", 2)]);

        var product = await InUnitAsync(uow => uow.Products.GetForBatchChangeAsync("batch-1", 6, default).AsTask());

        product!.Batches[0].Allocations.ShouldBeEmpty();
        product.Batches[0].AllocatedQuantity.ShouldBe(6);
    }

    [Test]
    public async Task TheSkuOfABatchIsFoundByItsReference()
    {
        await SeedAsync(("batch-1", 10, null));
        await Instance.SendAsync(new CreateBatch("batch-2", "BLUE-VASE", 5));

        var owner = await InUnitAsync(uow => uow.Products.FindSkuOfBatchAsync("batch-2", default).AsTask());
        var nobody = await InUnitAsync(uow => uow.Products.FindSkuOfBatchAsync("batch-9", default).AsTask());

        owner.ShouldBe("BLUE-VASE");
        nobody.ShouldBeNull();
    }

    [Test]
    public async Task AnUnknownSkuOrBatchReadsAsNoProduct()
    {
        await SeedAsync(("batch-1", 10, null));

        var bySku = await InUnitAsync(uow => uow.Products.GetAsync("BLUE-VASE", default).AsTask());
        var byOrderLine = await InUnitAsync(uow => uow.Products.GetForOrderLineAsync("BLUE-VASE", "order-1", default).AsTask());
        var byBatch = await InUnitAsync(uow => uow.Products.GetForBatchChangeAsync("batch-9", 0, default).AsTask());

        bySku.ShouldBeNull();
        byOrderLine.ShouldBeNull();
        byBatch.ShouldBeNull();
    }

    [Test]
    public async Task DeallocatingDeletesTheLinesRowsAndLowersTheAllocatedQuantity()
    {
        await SeedAsync(("batch-1", 10, null));
        await AllocateInOneUnitAsync(Enumerable.Range(0, 10).Select(i => ($"order-{i}", 1)));

        await InUnitAsync(async uow =>
        {
            var product = (await uow.Products.GetForBatchChangeAsync("batch-1", 7, default))!;
            product.ChangeBatchQuantity("batch-1", 7);
            await uow.CommitAsync(default);
        });

        Database.Allocations().Select(allocation => allocation.OrderId).ShouldBe(Enumerable.Range(0, 7).Select(i => $"order-{i}"));
        Database.Query<(int, int)>("SELECT purchased_quantity, allocated_quantity FROM batches").ShouldBe([(7, 7)]);
    }

    [Test]
    public async Task TheReadModelAgreesWithTheWriteModelAfterAllocating()
    {
        await SeedAsync(("batch-1", 2, null), ("batch-2", 10, Soon));
        await Instance.SendAsync(new CreateBatch("batch-3", "BLUE-VASE", 10));

        await Instance.SendAsync(new Allocate("order-1", Sku, 5));
        await Instance.SendAsync(new Allocate("order-1", "BLUE-VASE", 1));

        (await ReadModelAsync("order-1")).ShouldBe(
        [
            new OrderAllocation("BLUE-VASE", await BatchHoldingAsync("BLUE-VASE", "order-1")),
            new OrderAllocation(Sku, await BatchHoldingAsync(Sku, "order-1")),
        ]);
        (await BatchHoldingAsync(Sku, "order-1")).ShouldBe("batch-2");
    }

    [Test]
    public async Task TheReadModelFollowsALineThatIsReallocated()
    {
        await SeedAsync(("batch-1", 10, null), ("batch-2", 10, Soon));
        await Instance.SendAsync(new Allocate("order-1", Sku, 5));

        await Instance.SendAsync(new ChangeBatchQuantity("batch-1", 4));

        var written = await BatchHoldingAsync(Sku, "order-1");
        written.ShouldBe("batch-2");
        (await ReadModelAsync("order-1")).ShouldBe([new OrderAllocation(Sku, written)]);
    }

    [Test]
    public async Task EveryEventIsWrittenToTheOutboxByTheCommitThatRaisedItWithItsOwnMessageId()
    {
        await SeedAsync(("batch-1", 3, null));

        await InUnitAsync(async uow =>
        {
            var product = (await uow.Products.GetAsync(Sku, default))!;
            product.Allocate(new OrderLine("order-1", Sku, 1));
            product.Allocate(new OrderLine("order-2", Sku, 2));
            product.Allocate(new OrderLine("order-3", Sku, 1));
            await uow.CommitAsync(default);
        });

        var rows = Database.Outbox();
        rows.Select(row => row.Type).ShouldBe(["Allocated", "Allocated", "OutOfStock"]);
        Deserialize<Allocated>(rows[0].Payload).ShouldBe(new Allocated("order-1", Sku, 1, "batch-1"));
        Deserialize<Allocated>(rows[1].Payload).ShouldBe(new Allocated("order-2", Sku, 2, "batch-1"));
        Deserialize<OutOfStock>(rows[2].Payload).ShouldBe(new OutOfStock(Sku));
        rows.Select(row => row.MessageId).Distinct().Count().ShouldBe(3);
        rows.Select(row => Guid.TryParse(row.MessageId, out var id) && id != Guid.Empty).ShouldAllBe(isGuid => isGuid);
        rows.Select(row => row.DispatchedAt).ShouldAllBe(dispatchedAt => dispatchedAt == null);
    }

    private static T Deserialize<T>(string payload) =>
        JsonSerializer.Deserialize<T>(payload, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;

    [Test]
    public async Task TheLastAppliedChangeOfABatchIsStoredSoThatAnOlderOneIsIgnored()
    {
        await Instance.SendAsync(new CreateBatch("batch-1", "RED-CHAIR", 10));
        await Instance.SendAsync(new ChangeBatchQuantity("batch-1", 8, "200-1"));

        await Instance.SendAsync(new ChangeBatchQuantity("batch-1", 3, "200-0"));
        await Instance.SendAsync(new ChangeBatchQuantity("batch-1", 3, "200-1"));

        Database.Query<(int, string)>("SELECT purchased_quantity, last_change FROM batches").ShouldBe([(8, "200-1")]);
    }

    private Task<T> InUnitAsync<T>(Func<UnitOfWork, Task<T>> work) => Instance.InUnitAsync(work);

    private Task InUnitAsync(Func<UnitOfWork, Task> work) => Instance.InUnitAsync(work);

    private Task SeedAsync(params (string Reference, int Qty, DateOnly? Eta)[] batches) =>
        InUnitAsync(async uow =>
        {
            var product = new Product(Sku);
            foreach (var (reference, qty, eta) in batches)
            {
                product.AddBatch(reference, qty, eta);
            }

            uow.Products.Add(product);
            await uow.CommitAsync(default);
        });

    private Task AllocateInOneUnitAsync(IEnumerable<(string OrderId, int Qty)> lines) =>
        InUnitAsync(async uow =>
        {
            var product = (await uow.Products.GetAsync(Sku, default))!;
            foreach (var (orderId, qty) in lines)
            {
                product.Allocate(new OrderLine(orderId, Sku, qty)).ShouldNotBeNull();
            }

            await uow.CommitAsync(default);
        });

    private Task<string> BatchHoldingAsync(string sku, string orderId) =>
        InUnitAsync(async uow =>
        {
            var product = (await uow.Products.GetForOrderLineAsync(sku, orderId, default))!;
            return product.Batches.Single(batch => batch.Allocations.Any(line => line.OrderId == orderId)).Reference;
        });

    private async Task<IReadOnlyList<OrderAllocation>> ReadModelAsync(string orderId) =>
        await Instance.Services.GetRequiredService<IReadModel>().AllocationsForOrderAsync(orderId, default);
}
