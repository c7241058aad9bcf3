using System.Net;
using Allocation.E2ETests.Support;
using Microsoft.Data.Sqlite;

namespace Allocation.E2ETests.Api;

[Category("E2E")]
public class AllocateTests : ApiFixture
{
    [Test]
    public async Task AllocatingAnswersCreatedWithTheBatchReference()
    {
        await (await Client.AddBatchAsync("batch-1", "RED-CHAIR", 10)).ShouldBeCreatedAsync();

        var response = await Client.AllocateAsync("order-1", "RED-CHAIR", 3);

        (await response.ShouldBeAllocatedAsync()).ShouldBe("batch-1");
        (await Store.RowsAsync("SELECT reference, allocated_quantity FROM batches")).ShouldBe(["batch-1 | 3"]);
    }

    [Test]
    public async Task TheResponseUsesTheContractsFieldName()
    {
        await (await Client.AddBatchAsync("batch-1", "RED-CHAIR", 10)).ShouldBeCreatedAsync();

        var response = await Client.AllocateAsync("order-1", "RED-CHAIR", 3);

        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/json");
        (await response.Content.ReadAsStringAsync()).ShouldBe("""{"batchref":"batch-1"}""");
    }

    [Test]
    public async Task PrefersWarehouseStockToShipments()
    {
        await (await Client.AddBatchAsync("shipment", "RED-CHAIR", 10, "2011-01-01")).ShouldBeCreatedAsync();
        await (await Client.AddBatchAsync("in-stock", "RED-CHAIR", 10)).ShouldBeCreatedAsync();

        var response = await Client.AllocateAsync("order-1", "RED-CHAIR", 3);

        (await response.ShouldBeAllocatedAsync()).ShouldBe("in-stock");
    }

    [Test]
    public async Task PrefersEarlierShipments()
    {
        await (await Client.AddBatchAsync("later", "RED-CHAIR", 10, "2011-02-01")).ShouldBeCreatedAsync();
        await (await Client.AddBatchAsync("medium", "RED-CHAIR", 10, "2011-01-15")).ShouldBeCreatedAsync();
        await (await Client.AddBatchAsync("speedy", "RED-CHAIR", 10, "2011-01-02")).ShouldBeCreatedAsync();

        var response = await Client.AllocateAsync("order-1", "RED-CHAIR", 3);

        (await response.ShouldBeAllocatedAsync()).ShouldBe("speedy");
    }

    [TestCase("2011-01-02")]
    [TestCase(null)]
    public async Task BatchesWithEqualEtaAreChosenInTheOrderAdded(string? eta)
    {
        await (await Client.AddBatchAsync("zz-first", "RED-CHAIR", 10, eta)).ShouldBeCreatedAsync();
        await (await Client.AddBatchAsync("aa-second", "RED-CHAIR", 10, eta)).ShouldBeCreatedAsync();

        var first = await Client.AllocateAsync("order-1", "RED-CHAIR", 6);
        var second = await Client.AllocateAsync("order-2", "RED-CHAIR", 6);

        (await first.ShouldBeAllocatedAsync()).ShouldBe("zz-first");
        (await second.ShouldBeAllocatedAsync()).ShouldBe("aa-second");
    }

    [Test]
    public async Task ALineGoesWholeToTheNextBatchThatCanTakeIt()
    {
        await (await Client.AddBatchAsync("in-stock", "RED-CHAIR", 2)).ShouldBeCreatedAsync();
        await (await Client.AddBatchAsync("shipment", "RED-CHAIR", 10, "2011-01-01")).ShouldBeCreatedAsync();

        var response = await Client.AllocateAsync("order-1", "RED-CHAIR", 3);

        (await response.ShouldBeAllocatedAsync()).ShouldBe("shipment");
        (await Store.RowsAsync("SELECT reference, allocated_quantity FROM batches ORDER BY reference"))
            .ShouldBe(["in-stock | 0", "shipment | 3"]);
    }

    [Test]
    public async Task RepeatingAnAllocationAnswersTheSameBatchAndChangesNothing()
    {
        await (await Client.AddBatchAsync("shipment", "RED-CHAIR", 10, "2011-01-01")).ShouldBeCreatedAsync();
        var first = await (await Client.AllocateAsync("order-1", "RED-CHAIR", 3)).ShouldBeAllocatedAsync();
        await (await Client.AddBatchAsync("in-stock", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        var before = await Store.SnapshotAsync();

        var repeat = await Client.AllocateAsync("order-1", "RED-CHAIR", 3);

        first.ShouldBe("shipment");
        (await repeat.ShouldBeAllocatedAsync()).ShouldBe("shipment");
        (await Store.SnapshotAsync()).ShouldBe(before);
    }

    [Test]
    public async Task RepeatingAnAllocationThatFilledItsBatchIsNotOutOfStock()
    {
        await (await Client.AddBatchAsync("batch-1", "RED-CHAIR", 5)).ShouldBeCreatedAsync();
        await (await Client.AllocateAsync("order-1", "RED-CHAIR", 5)).ShouldBeAllocatedAsync();

        var repeat = await Client.AllocateAsync("order-1", "RED-CHAIR", 5);

        (await repeat.ShouldBeAllocatedAsync()).ShouldBe("batch-1");
        (await Store.CountAsync("SELECT count(*) FROM outbox WHERE type = 'OutOfStock'")).ShouldBe(0);
    }

    [Test]
    public async Task TheSameLineWithADifferentQuantityIsAConflict()
    {
        await (await Client.AddBatchAsync("batch-1", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        await (await Client.AllocateAsync("order-1", "RED-CHAIR", 3)).ShouldBeAllocatedAsync();
        var before = await Store.SnapshotAsync();

        var response = await Client.AllocateAsync("order-1", "RED-CHAIR", 4);

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.Conflict);
        problem.Message().ShouldContain("order-1");
        (await Store.SnapshotAsync()).ShouldBe(before);
    }

    [Test]
    public async Task TheSameOrderMayAllocateOtherSkus()
    {
        await (await Client.AddBatchAsync("chairs", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        await (await Client.AddBatchAsync("vases", "BLUE-VASE", 10)).ShouldBeCreatedAsync();
        await (await Client.AllocateAsync("order-1", "RED-CHAIR", 3)).ShouldBeAllocatedAsync();

        var response = await Client.AllocateAsync("order-1", "BLUE-VASE", 4);

        (await response.ShouldBeAllocatedAsync()).ShouldBe("vases");
    }

    [Test]
    public async Task AnUnknownSkuIsInvalid()
    {
        await (await Client.AddBatchAsync("batch-1", "RED-CHAIR", 10)).ShouldBeCreatedAsync();

        var response = await Client.AllocateAsync("order-1", "NONEXISTENT-SKU", 3);

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        problem.Message().ShouldBe("Invalid sku NONEXISTENT-SKU");
        (await Store.CountAsync("SELECT count(*) FROM allocations")).ShouldBe(0);
    }

    [Test]
    public async Task ALineNoBatchCanTakeIsOutOfStock()
    {
        await (await Client.AddBatchAsync("batch-1", "SMALL-TABLE", 10)).ShouldBeCreatedAsync();
        await (await Client.AllocateAsync("order-1", "SMALL-TABLE", 10)).ShouldBeAllocatedAsync();

        var response = await Client.AllocateAsync("order-2", "SMALL-TABLE", 1);

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.Conflict);
        problem.Message().ShouldBe("Out of stock for sku SMALL-TABLE");
        (await Store.RowsAsync("SELECT orderid FROM allocations")).ShouldBe(["order-1"]);
    }

    [Test]
    public async Task OutOfStockIsRecordedForTheStockTeam()
    {
        await (await Client.AddBatchAsync("batch-1", "SMALL-TABLE", 1)).ShouldBeCreatedAsync();

        var response = await Client.AllocateAsync("order-1", "SMALL-TABLE", 2);

        await response.ShouldBeProblemAsync(HttpStatusCode.Conflict);
        (await Store.RowsAsync("SELECT payload FROM outbox WHERE type = 'OutOfStock'"))
            .ShouldHaveSingleItem().ShouldContain("SMALL-TABLE");
    }

    [TestCase(0)]
    [TestCase(-1)]
    public async Task ALineQuantityMustBePositive(int qty)
    {
        await (await Client.AddBatchAsync("batch-1", "RED-CHAIR", 10)).ShouldBeCreatedAsync();

        var response = await Client.AllocateAsync("order-1", "RED-CHAIR", qty);

        await response.ShouldBeInvalidAsync("qty");
        (await Store.CountAsync("SELECT count(*) FROM allocations")).ShouldBe(0);
    }

    [TestCase("orderid", "")]
    [TestCase("orderid", 256)]
    [TestCase("sku", "")]
    [TestCase("sku", 256)]
    public async Task AnEmptyOrOverLongIdentifierIsRejected(string field, object value)
    {
        await (await Client.AddBatchAsync("batch-1", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        var body = new Dictionary<string, object?> { ["orderid"] = "order-1", ["sku"] = "RED-CHAIR", ["qty"] = 3 };
        body[field] = value is int length ? new string('x', length) : value;

        var response = await Client.PostAsync("/allocate", System.Net.Http.Json.JsonContent.Create(body));

        await response.ShouldBeInvalidAsync(field);
        (await Store.CountAsync("SELECT count(*) FROM allocations")).ShouldBe(0);
    }

    [Test]
    public async Task AnOrderIdOfTheMaximumLengthIsAccepted()
    {
        await (await Client.AddBatchAsync("batch-1", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        var orderId = new string('o', 255);

        var response = await Client.AllocateAsync(orderId, "RED-CHAIR", 3);

        (await response.ShouldBeAllocatedAsync()).ShouldBe("batch-1");
    }

    [Test]
    public async Task AnAllocationIsDurableOnceAnswered()
    {
        await (await Client.AddBatchAsync("batch-1", "RED-CHAIR", 10)).ShouldBeCreatedAsync();

        await (await Client.AllocateAsync("order-1", "RED-CHAIR", 3)).ShouldBeAllocatedAsync();

        var connectionString = new SqliteConnectionStringBuilder { DataSource = App.Database.FilePath, Pooling = false }.ToString();
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        await using var query = connection.CreateCommand();
        query.CommandText = """
            SELECT a.orderid || ' ' || a.sku || ' ' || a.qty || ' ' || b.reference
            FROM allocations a JOIN batches b ON b.id = a.batch_id
            """;
        (await query.ExecuteScalarAsync()).ShouldBe("order-1 RED-CHAIR 3 batch-1");
    }
}
