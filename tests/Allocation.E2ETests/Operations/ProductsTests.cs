using System.Net;
using System.Text.Json;
using Allocation.Application.Queries;
using Allocation.E2ETests.Api;
using Allocation.E2ETests.Support;

namespace Allocation.E2ETests.Operations;

/// <summary><c>GET /products/{sku}</c> and <c>GET /products?after=&amp;limit=</c>, the warehouse UI's stock view.</summary>
[Category("E2E")]
public class ProductsTests : ApiFixture
{
    [Test]
    public async Task AProductListsItsBatchesInPreferenceOrder()
    {
        await (await Client.AddBatchAsync("latest", "RED-CHAIR", 10, "2011-01-03")).ShouldBeCreatedAsync();
        await (await Client.AddBatchAsync("soon-zulu", "RED-CHAIR", 10, "2011-01-02")).ShouldBeCreatedAsync();
        await (await Client.AddBatchAsync("in-stock-zulu", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        await (await Client.AddBatchAsync("soon-alpha", "RED-CHAIR", 10, "2011-01-02")).ShouldBeCreatedAsync();
        await (await Client.AddBatchAsync("in-stock-alpha", "RED-CHAIR", 10)).ShouldBeCreatedAsync();

        var product = await (await Client.GetAsync("/products/RED-CHAIR")).JsonAsync();

        References(product).ShouldBe(["in-stock-zulu", "in-stock-alpha", "soon-zulu", "soon-alpha", "latest"]);
    }

    [Test]
    public async Task EachBatchShowsWhatIsPurchasedAllocatedAndAvailable()
    {
        await (await Client.AddBatchAsync("shipment", "RED-CHAIR", 20, "2011-01-02")).ShouldBeCreatedAsync();
        await (await Client.AddBatchAsync("in-stock", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        await (await Client.AddBatchAsync("in-stock-small", "RED-CHAIR", 5)).ShouldBeCreatedAsync();
        await (await Client.AllocateAsync("order-1", "RED-CHAIR", 8)).ShouldBeAllocatedAsync();
        await (await Client.AllocateAsync("order-2", "RED-CHAIR", 4)).ShouldBeAllocatedAsync();
        await (await Client.AllocateAsync("order-3", "RED-CHAIR", 3)).ShouldBeAllocatedAsync();

        var response = await Client.GetAsync("/products/RED-CHAIR");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/json");
        var product = await response.JsonAsync();
        product.GetProperty("sku").GetString().ShouldBe("RED-CHAIR");
        product.GetProperty("batches").EnumerateArray().Select(batch => batch.GetRawText()).ShouldBe(
        [
            """{"ref":"in-stock","eta":null,"purchased":10,"allocated":8,"available":2}""",
            """{"ref":"in-stock-small","eta":null,"purchased":5,"allocated":4,"available":1}""",
            """{"ref":"shipment","eta":"2011-01-02","purchased":20,"allocated":3,"available":17}""",
        ]);
    }

    [Test]
    public async Task AnOutOfStockLineLeavesEveryBatchAsItWas()
    {
        await (await Client.AddBatchAsync("in-stock", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        await (await Client.AllocateAsync("order-1", "RED-CHAIR", 8)).ShouldBeAllocatedAsync();
        await (await Client.AllocateAsync("order-2", "RED-CHAIR", 3)).ShouldBeProblemAsync(HttpStatusCode.Conflict);

        var product = await (await Client.GetAsync("/products/RED-CHAIR")).JsonAsync();

        product.GetProperty("batches")[0].GetRawText().ShouldBe("""{"ref":"in-stock","eta":null,"purchased":10,"allocated":8,"available":2}""");
    }

    [Test]
    public async Task TheVersionGrowsWithEveryAllocation()
    {
        await (await Client.AddBatchAsync("in-stock", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        var before = (await (await Client.GetAsync("/products/RED-CHAIR")).JsonAsync()).GetProperty("version").GetInt32();

        await (await Client.AllocateAsync("order-1", "RED-CHAIR", 1)).ShouldBeAllocatedAsync();
        await (await Client.AllocateAsync("order-2", "RED-CHAIR", 1)).ShouldBeAllocatedAsync();

        var after = (await (await Client.GetAsync("/products/RED-CHAIR")).JsonAsync()).GetProperty("version").GetInt32();
        after.ShouldBe(before + 2);
    }

    [Test]
    public async Task AnUnknownSkuIsNotFound()
    {
        await (await Client.AddBatchAsync("in-stock", "RED-CHAIR", 10)).ShouldBeCreatedAsync();

        var response = await Client.GetAsync("/products/BLUE-VASE");

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.NotFound);
        problem.Message().ShouldContain("BLUE-VASE");
    }

    [Test]
    public async Task TheListPagesThroughEverySkuInOrderUntilNextIsNull()
    {
        string[] skus = ["SKU-5", "SKU-2", "SKU-7", "SKU-1", "SKU-4", "SKU-6", "SKU-3"];
        foreach (var sku in skus)
        {
            await (await Client.AddBatchAsync($"batch-{sku}", sku, 1)).ShouldBeCreatedAsync();
        }

        var pages = new List<string>();
        var nexts = new List<string?>();
        string? after = null;
        do
        {
            var page = await (await Client.GetAsync(after is null ? "/products?limit=3" : $"/products?limit=3&after={Uri.EscapeDataString(after)}")).JsonAsync();
            after = page.GetProperty("next").GetString();
            pages.Add(string.Join(",", Skus(page)));
            nexts.Add(after);
        }
        while (after is not null && pages.Count < 10);

        pages.ShouldBe(["SKU-1,SKU-2,SKU-3", "SKU-4,SKU-5,SKU-6", "SKU-7"]);
        nexts.ShouldBe(["SKU-3", "SKU-6", null]);
    }

    [Test]
    public async Task ThePageEndingExactlyAtTheLastSkuStillSaysThereIsNoNext()
    {
        await (await Client.AddBatchAsync("batch-1", "SKU-1", 1)).ShouldBeCreatedAsync();
        await (await Client.AddBatchAsync("batch-2", "SKU-2", 1)).ShouldBeCreatedAsync();

        var first = await (await Client.GetAsync("/products?limit=2")).JsonAsync();
        var past = await (await Client.GetAsync("/products?limit=2&after=SKU-2")).JsonAsync();

        Skus(first).ShouldBe(["SKU-1", "SKU-2"]);
        first.GetProperty("next").ValueKind.ShouldBe(JsonValueKind.Null);
        Skus(past).ShouldBeEmpty();
        past.GetProperty("next").ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Test]
    public async Task AfterNeedNotBeAnExistingSku()
    {
        string[] skus = ["APPLE", "BANANA", "CHERRY"];
        foreach (var sku in skus)
        {
            await (await Client.AddBatchAsync($"batch-{sku}", sku, 1)).ShouldBeCreatedAsync();
        }

        var page = await (await Client.GetAsync("/products?after=B")).JsonAsync();

        Skus(page).ShouldBe(["BANANA", "CHERRY"]);
    }

    [Test]
    public async Task TheListCarriesEachProductsTotals()
    {
        await (await Client.AddBatchAsync("chairs-1", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        await (await Client.AddBatchAsync("chairs-2", "RED-CHAIR", 5, "2011-01-02")).ShouldBeCreatedAsync();
        await (await Client.AddBatchAsync("vases", "BLUE-VASE", 7)).ShouldBeCreatedAsync();
        await (await Client.AllocateAsync("order-1", "RED-CHAIR", 8)).ShouldBeAllocatedAsync();
        await (await Client.AllocateAsync("order-2", "RED-CHAIR", 4)).ShouldBeAllocatedAsync();
        var chairVersion = (await (await Client.GetAsync("/products/RED-CHAIR")).JsonAsync()).GetProperty("version").GetInt32();
        var vaseVersion = (await (await Client.GetAsync("/products/BLUE-VASE")).JsonAsync()).GetProperty("version").GetInt32();

        var response = await Client.GetAsync("/products");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).ShouldBe(
            $$"""{"items":[{"sku":"BLUE-VASE","version":{{vaseVersion}},"batches":1,"purchased":7,"allocated":0,"available":7},{"sku":"RED-CHAIR","version":{{chairVersion}},"batches":2,"purchased":15,"allocated":12,"available":3}],"next":null}""");
    }

    [Test]
    public async Task AnEmptyStoreIsAnEmptyList()
    {
        var response = await Client.GetAsync("/products");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).ShouldBe("""{"items":[],"next":null}""");
    }

    [Test]
    public async Task ALimitAboveTheMaximumIsCappedNotRefused()
    {
        var count = Paging.MaxLimit + 1;
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
            await (await Client.AddBatchAsync($"batch-{i:D4}", $"SKU-{i:D4}", 1)).ShouldBeCreatedAsync());

        var first = await (await Client.GetAsync("/products?limit=10000")).JsonAsync();
        var rest = await (await Client.GetAsync($"/products?limit=10000&after={first.GetProperty("next").GetString()}")).JsonAsync();

        Skus(first).ShouldBe(Enumerable.Range(0, Paging.MaxLimit).Select(i => $"SKU-{i:D4}").ToArray());
        first.GetProperty("next").GetString().ShouldBe($"SKU-{Paging.MaxLimit - 1:D4}");
        Skus(rest).ShouldBe([$"SKU-{Paging.MaxLimit:D4}"]);
        rest.GetProperty("next").ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Test]
    public void TheCapIsFiveHundredAndTheDefaultFifty()
    {
        Paging.Cap(10_000).ShouldBe(500);
        Paging.Cap(500).ShouldBe(500);
        Paging.Cap(7).ShouldBe(7);
        Paging.Cap(null).ShouldBe(50);
    }

    [Test]
    public async Task WithoutALimitAPageHoldsTheDefaultNumberOfProducts()
    {
        await Parallel.ForEachAsync(Enumerable.Range(0, Paging.DefaultLimit + 1), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
            await (await Client.AddBatchAsync($"batch-{i:D3}", $"SKU-{i:D3}", 1)).ShouldBeCreatedAsync());

        var page = await (await Client.GetAsync("/products")).JsonAsync();

        Skus(page).Length.ShouldBe(Paging.DefaultLimit);
        page.GetProperty("next").GetString().ShouldBe($"SKU-{Paging.DefaultLimit - 1:D3}");
    }

    [TestCase("limit=0")]
    [TestCase("limit=-1")]
    [TestCase("limit=abc")]
    [TestCase("limit=1.5")]
    [TestCase("limit=99999999999")]
    public async Task AnInvalidLimitIsRefused(string query)
    {
        var response = await Client.GetAsync($"/products?{query}");

        await response.ShouldBeInvalidAsync("limit");
    }

    [Test]
    public async Task AnAfterLongerThanAnySkuIsRefused()
    {
        var response = await Client.GetAsync($"/products?after={new string('A', 256)}");

        await response.ShouldBeInvalidAsync("after");
    }

    [Test]
    public async Task AnAfterAsLongAsTheLongestSkuIsAccepted()
    {
        var response = await Client.GetAsync($"/products?after={new string('A', 255)}");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private static string[] References(JsonElement product) =>
        [.. product.GetProperty("batches").EnumerateArray().Select(batch => batch.GetProperty("ref").GetString()!)];

    private static string[] Skus(JsonElement page) =>
        [.. page.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("sku").GetString()!)];
}
