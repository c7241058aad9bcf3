using System.Net;
using System.Text.Json;
using Allocation.E2ETests.Api;
using Allocation.E2ETests.Support;

namespace Allocation.E2ETests.Operations;

/// <summary><c>GET /batches/{ref}?after=&amp;limit=</c>: a batch and the order lines allocated to it, oldest first.</summary>
[Category("E2E")]
public class BatchesTests : ApiFixture
{
    [Test]
    public async Task ABatchShowsItsStockAndItsLines()
    {
        await (await Client.AddBatchAsync("shipment", "RED-CHAIR", 20, "2011-01-02")).ShouldBeCreatedAsync();
        await (await Client.AllocateAsync("order-1", "RED-CHAIR", 3)).ShouldBeAllocatedAsync();
        await (await Client.AllocateAsync("order-2", "RED-CHAIR", 5)).ShouldBeAllocatedAsync();

        var response = await Client.GetAsync("/batches/shipment");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/json");
        (await response.Content.ReadAsStringAsync()).ShouldBe(
            """{"ref":"shipment","sku":"RED-CHAIR","eta":"2011-01-02","purchased":20,"allocated":8,"available":12,"allocations":[{"orderid":"order-1","qty":3},{"orderid":"order-2","qty":5}],"next":null}""");
    }

    [Test]
    public async Task ABatchListsOnlyItsOwnLines()
    {
        await (await Client.AddBatchAsync("in-stock", "RED-CHAIR", 5)).ShouldBeCreatedAsync();
        await (await Client.AddBatchAsync("shipment", "RED-CHAIR", 20, "2011-01-02")).ShouldBeCreatedAsync();
        await (await Client.AddBatchAsync("vases", "BLUE-VASE", 20)).ShouldBeCreatedAsync();
        await (await Client.AllocateAsync("order-1", "RED-CHAIR", 4)).ShouldBeAllocatedAsync();
        await (await Client.AllocateAsync("order-2", "RED-CHAIR", 4)).ShouldBeAllocatedAsync();
        await (await Client.AllocateAsync("order-2", "BLUE-VASE", 4)).ShouldBeAllocatedAsync();

        var batch = await (await Client.GetAsync("/batches/shipment")).JsonAsync();

        OrderIds(batch).ShouldBe(["order-2"]);
        batch.GetProperty("allocated").GetInt32().ShouldBe(4);
        batch.GetProperty("available").GetInt32().ShouldBe(16);
    }

    [Test]
    public async Task ABatchWithoutLinesHasAnEmptyLastPage()
    {
        await (await Client.AddBatchAsync("in-stock", "RED-CHAIR", 10)).ShouldBeCreatedAsync();

        var batch = await (await Client.GetAsync("/batches/in-stock")).JsonAsync();

        batch.GetProperty("allocations").GetArrayLength().ShouldBe(0);
        batch.GetProperty("next").ValueKind.ShouldBe(JsonValueKind.Null);
        batch.GetProperty("eta").ValueKind.ShouldBe(JsonValueKind.Null);
        batch.GetProperty("available").GetInt32().ShouldBe(10);
    }

    [Test]
    public async Task LinesArePagedOldestFirstUntilNextIsNull()
    {
        await (await Client.AddBatchAsync("in-stock", "RED-CHAIR", 100)).ShouldBeCreatedAsync();
        string[] orders = ["order-e", "order-c", "order-a", "order-d", "order-b"];
        foreach (var order in orders)
        {
            await (await Client.AllocateAsync(order, "RED-CHAIR", 1)).ShouldBeAllocatedAsync();
        }

        var pages = new List<string[]>();
        string? after = null;
        do
        {
            var page = await (await Client.GetAsync(after is null ? "/batches/in-stock?limit=2" : $"/batches/in-stock?limit=2&after={after}")).JsonAsync();
            pages.Add(OrderIds(page));
            after = page.GetProperty("next").GetString();
        }
        while (after is not null && pages.Count < 10);

        pages.Select(page => page.Length).ShouldBe([2, 2, 1]);
        pages.SelectMany(page => page).ShouldBe(orders);
    }

    [Test]
    public async Task EveryPageCarriesTheBatchTotals()
    {
        await (await Client.AddBatchAsync("in-stock", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        await (await Client.AllocateAsync("order-1", "RED-CHAIR", 2)).ShouldBeAllocatedAsync();
        await (await Client.AllocateAsync("order-2", "RED-CHAIR", 3)).ShouldBeAllocatedAsync();
        var first = await (await Client.GetAsync("/batches/in-stock?limit=1")).JsonAsync();

        var second = await (await Client.GetAsync($"/batches/in-stock?limit=1&after={first.GetProperty("next").GetString()}")).JsonAsync();

        OrderIds(second).ShouldBe(["order-2"]);
        second.GetProperty("purchased").GetInt32().ShouldBe(10);
        second.GetProperty("allocated").GetInt32().ShouldBe(5);
        second.GetProperty("available").GetInt32().ShouldBe(5);
    }

    [Test]
    public async Task AReferenceIsMatchedExactly()
    {
        await (await Client.AddBatchAsync("Batch-1", "RED-CHAIR", 10)).ShouldBeCreatedAsync();

        var response = await Client.GetAsync("/batches/batch-1");

        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Test]
    public async Task AnUnknownBatchIsNotFound()
    {
        await (await Client.AddBatchAsync("in-stock", "RED-CHAIR", 10)).ShouldBeCreatedAsync();

        var response = await Client.GetAsync("/batches/no-such-batch");

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.NotFound);
        problem.Message().ShouldContain("no-such-batch");
    }

    [TestCase("limit=0", "limit")]
    [TestCase("limit=-1", "limit")]
    [TestCase("limit=abc", "limit")]
    [TestCase("after=-1", "after")]
    [TestCase("after=abc", "after")]
    [TestCase("after=order-1", "after")]
    public async Task InvalidPagingIsRefused(string query, string field)
    {
        await (await Client.AddBatchAsync("in-stock", "RED-CHAIR", 10)).ShouldBeCreatedAsync();

        var response = await Client.GetAsync($"/batches/in-stock?{query}");

        await response.ShouldBeInvalidAsync(field);
    }

    private static string[] OrderIds(JsonElement batch) =>
        [.. batch.GetProperty("allocations").EnumerateArray().Select(line => line.GetProperty("orderid").GetString()!)];
}
