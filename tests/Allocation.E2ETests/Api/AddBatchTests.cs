using System.Net;
using Allocation.E2ETests.Support;

namespace Allocation.E2ETests.Api;

[Category("E2E")]
public class AddBatchTests : ApiFixture
{
    [Test]
    public async Task AddingABatchAnswersCreatedWithItsLocation()
    {
        var response = await Client.AddBatchAsync("batch-1", "RED-CHAIR", 10);

        await response.ShouldBeCreatedAsync();
        response.Headers.Location?.OriginalString.ShouldBe("/batches/batch-1");
    }

    [Test]
    public async Task ABatchWithoutEtaIsStoredAsWarehouseStock()
    {
        var response = await Client.PostJsonAsync("/add_batch", """{"ref": "batch-1", "sku": "RED-CHAIR", "qty": 10, "eta": null}""");

        await response.ShouldBeCreatedAsync();
        (await Store.RowsAsync("SELECT reference, sku, purchased_quantity, allocated_quantity, eta FROM batches"))
            .ShouldBe(["batch-1 | RED-CHAIR | 10 | 0 | NULL"]);
    }

    [Test]
    public async Task AnOmittedEtaIsRejectedRatherThanTakenForWarehouseStock()
    {
        var response = await Client.PostJsonAsync("/add_batch", """{"ref": "batch-1", "sku": "RED-CHAIR", "qty": 10}""");

        await response.ShouldBeInvalidAsync("eta");
        (await Store.CountAsync("SELECT count(*) FROM batches")).ShouldBe(0);
    }

    [Test]
    public async Task ABatchWithAnEtaIsStoredWithThatDate()
    {
        var response = await Client.AddBatchAsync("batch-1", "RED-CHAIR", 10, "2011-01-02");

        await response.ShouldBeCreatedAsync();
        (await Store.ScalarAsync("SELECT eta FROM batches WHERE reference = 'batch-1'")).ShouldBe("2011-01-02");
    }

    [Test]
    public async Task AddingTheFirstBatchOfASkuCreatesItsProduct()
    {
        await Client.AddBatchAsync("batch-1", "RED-CHAIR", 10);

        var response = await Client.AddBatchAsync("batch-2", "RED-CHAIR", 5);

        await response.ShouldBeCreatedAsync();
        (await Store.RowsAsync("SELECT sku FROM products")).ShouldBe(["RED-CHAIR"]);
        (await Store.CountAsync("SELECT count(*) FROM batches WHERE sku = 'RED-CHAIR'")).ShouldBe(2);
    }

    [Test]
    public async Task RepostingAnIdenticalBatchAnswersCreatedAndChangesNothing()
    {
        await (await Client.AddBatchAsync("batch-1", "RED-CHAIR", 10, "2011-01-02")).ShouldBeCreatedAsync();
        await (await Client.AllocateAsync("order-1", "RED-CHAIR", 3)).ShouldBeAllocatedAsync();
        var before = await Store.SnapshotAsync();

        var response = await Client.AddBatchAsync("batch-1", "RED-CHAIR", 10, "2011-01-02");

        await response.ShouldBeCreatedAsync();
        (await Store.SnapshotAsync()).ShouldBe(before);
    }

    [TestCase("RED-CHAIR", 11, "2011-01-02", TestName = "ReusingAReferenceWithADifferentQuantityIsAConflict")]
    [TestCase("RED-CHAIR", 10, "2011-01-03", TestName = "ReusingAReferenceWithADifferentEtaIsAConflict")]
    [TestCase("RED-CHAIR", 10, null, TestName = "ReusingAReferenceWithoutItsEtaIsAConflict")]
    [TestCase("BLUE-VASE", 10, "2011-01-02", TestName = "ReusingAReferenceForAnotherSkuIsAConflict")]
    public async Task ReusingAReferenceWithDifferentDetailsIsAConflict(string sku, int qty, string? eta)
    {
        await (await Client.AddBatchAsync("batch-1", "RED-CHAIR", 10, "2011-01-02")).ShouldBeCreatedAsync();
        var before = await Store.SnapshotAsync();

        var response = await Client.AddBatchAsync("batch-1", sku, qty, eta);

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.Conflict);
        problem.Message().ShouldContain("batch-1");
        (await Store.SnapshotAsync()).ShouldBe(before);
    }

    [Test]
    public async Task ABatchOfZeroIsAccepted()
    {
        var response = await Client.AddBatchAsync("batch-1", "RED-CHAIR", 0);

        await response.ShouldBeCreatedAsync();
        (await Store.CountAsync("SELECT purchased_quantity FROM batches WHERE reference = 'batch-1'")).ShouldBe(0);
    }

    [Test]
    public async Task ANegativeQuantityIsRejected()
    {
        var response = await Client.AddBatchAsync("batch-1", "RED-CHAIR", -1);

        await response.ShouldBeInvalidAsync("qty");
        (await Store.CountAsync("SELECT count(*) FROM batches")).ShouldBe(0);
    }

    [TestCase("ref", "")]
    [TestCase("ref", 256)]
    [TestCase("sku", "")]
    [TestCase("sku", 256)]
    public async Task AnEmptyOrOverLongIdentifierIsRejected(string field, object value)
    {
        var body = new Dictionary<string, object?> { ["ref"] = "batch-1", ["sku"] = "RED-CHAIR", ["qty"] = 10, ["eta"] = null };
        body[field] = value is int length ? new string('x', length) : value;

        var response = await Client.PostAsync("/add_batch", System.Net.Http.Json.JsonContent.Create(body));

        await response.ShouldBeInvalidAsync(field);
        (await Store.CountAsync("SELECT count(*) FROM batches")).ShouldBe(0);
    }

    [TestCase("ref")]
    [TestCase("sku")]
    [TestCase("qty")]
    [TestCase("eta")]
    public async Task AMissingRequiredFieldIsRejected(string field)
    {
        var body = new Dictionary<string, object?> { ["ref"] = "batch-1", ["sku"] = "RED-CHAIR", ["qty"] = 10, ["eta"] = null };
        body.Remove(field);

        var response = await Client.PostAsync("/add_batch", System.Net.Http.Json.JsonContent.Create(body));

        await response.ShouldBeInvalidAsync(field);
    }

    [Test]
    public async Task IdentifiersOfTheMaximumLengthAreAccepted()
    {
        var reference = new string('r', 255);
        var sku = new string('s', 255);

        var response = await Client.AddBatchAsync(reference, sku, 10);

        await response.ShouldBeCreatedAsync();
        (await Store.CountAsync("SELECT count(*) FROM batches WHERE reference = $ref AND sku = $sku", ("$ref", reference), ("$sku", sku))).ShouldBe(1);
    }

    [TestCase("\"2011-13-01\"")]
    [TestCase("\"2011-02-30\"")]
    [TestCase("\"tomorrow\"")]
    [TestCase("5")]
    public async Task AMalformedEtaIsRejected(string eta)
    {
        var response = await Client.PostJsonAsync("/add_batch", $$"""{"ref": "batch-1", "sku": "RED-CHAIR", "qty": 10, "eta": {{eta}}}""");

        await response.ShouldBeInvalidAsync("eta");
        (await Store.CountAsync("SELECT count(*) FROM batches")).ShouldBe(0);
    }
}
