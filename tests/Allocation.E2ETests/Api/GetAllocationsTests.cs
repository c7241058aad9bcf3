using System.Net;
using System.Text.Json;
using Allocation.E2ETests.Support;

namespace Allocation.E2ETests.Api;

[Category("E2E")]
public class GetAllocationsTests : ApiFixture
{
    [Test]
    public async Task ListsTheBatchOfEveryLineOfAnOrder()
    {
        await (await Client.AddBatchAsync("chairs", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        await (await Client.AddBatchAsync("vases", "BLUE-VASE", 10)).ShouldBeCreatedAsync();
        await (await Client.AddBatchAsync("lamps", "GREEN-LAMP", 10, "2011-01-02")).ShouldBeCreatedAsync();
        await (await Client.AllocateAsync("order-1", "RED-CHAIR", 3)).ShouldBeAllocatedAsync();
        await (await Client.AllocateAsync("order-1", "BLUE-VASE", 1)).ShouldBeAllocatedAsync();
        await (await Client.AllocateAsync("order-1", "GREEN-LAMP", 2)).ShouldBeAllocatedAsync();

        var response = await Client.GetAsync("/allocations/order-1");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/json");
        Lines(await response.JsonAsync()).ShouldBe(["BLUE-VASE vases", "GREEN-LAMP lamps", "RED-CHAIR chairs"], ignoreOrder: true);
    }

    [Test]
    public async Task EachLineCarriesExactlyTheContractsFieldNames()
    {
        await (await Client.AddBatchAsync("chairs", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        await (await Client.AllocateAsync("order-1", "RED-CHAIR", 3)).ShouldBeAllocatedAsync();

        var response = await Client.GetAsync("/allocations/order-1");

        (await response.Content.ReadAsStringAsync()).ShouldBe("""[{"sku":"RED-CHAIR","batchref":"chairs"}]""");
    }

    [Test]
    public async Task ListsOnlyTheLinesOfThatOrder()
    {
        await (await Client.AddBatchAsync("chairs", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        await (await Client.AddBatchAsync("more-chairs", "RED-CHAIR", 10, "2011-01-02")).ShouldBeCreatedAsync();
        await (await Client.AllocateAsync("order-1", "RED-CHAIR", 8)).ShouldBeAllocatedAsync();
        await (await Client.AllocateAsync("order-2", "RED-CHAIR", 8)).ShouldBeAllocatedAsync();

        var response = await Client.GetAsync("/allocations/order-2");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).ShouldBe("""[{"sku":"RED-CHAIR","batchref":"more-chairs"}]""");
    }

    [Test]
    public async Task ALineThatWasOutOfStockIsNotListed()
    {
        await (await Client.AddBatchAsync("chairs", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        await (await Client.AddBatchAsync("vases", "BLUE-VASE", 1)).ShouldBeCreatedAsync();
        await (await Client.AllocateAsync("order-1", "RED-CHAIR", 3)).ShouldBeAllocatedAsync();
        await (await Client.AllocateAsync("order-1", "BLUE-VASE", 2)).ShouldBeProblemAsync(HttpStatusCode.Conflict);

        var response = await Client.GetAsync("/allocations/order-1");

        (await response.Content.ReadAsStringAsync()).ShouldBe("""[{"sku":"RED-CHAIR","batchref":"chairs"}]""");
    }

    [Test]
    public async Task AnOrderIdIsMatchedExactly()
    {
        await (await Client.AddBatchAsync("chairs", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        await (await Client.AllocateAsync("Order 1 ä", "RED-CHAIR", 3)).ShouldBeAllocatedAsync();

        var exact = await Client.GetAsync($"/allocations/{Uri.EscapeDataString("Order 1 ä")}");
        var otherCase = await Client.GetAsync($"/allocations/{Uri.EscapeDataString("order 1 ä")}");

        (await exact.Content.ReadAsStringAsync()).ShouldBe("""[{"sku":"RED-CHAIR","batchref":"chairs"}]""");
        await otherCase.ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Test]
    public async Task AnOrderWithoutAllocationIsNotFound()
    {
        await (await Client.AddBatchAsync("chairs", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        await (await Client.AllocateAsync("order-1", "RED-CHAIR", 3)).ShouldBeAllocatedAsync();

        var response = await Client.GetAsync("/allocations/order-2");

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.NotFound);
        problem.Message().ShouldContain("order-2");
    }

    [TestCase("/allocations")]
    [TestCase("/allocations/")]
    [TestCase("/allocations/order-1/lines")]
    public async Task APathWithoutExactlyOneOrderIdIsAnUnknownRoute(string path)
    {
        await (await Client.AddBatchAsync("chairs", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        await (await Client.AllocateAsync("order-1", "RED-CHAIR", 3)).ShouldBeAllocatedAsync();

        var response = await Client.GetAsync(path);

        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Test]
    public async Task AnAllocationIsListedAsSoonAsItIsAnswered()
    {
        await (await Client.AddBatchAsync("chairs", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        (await Client.GetAsync("/allocations/order-1")).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        var batchRef = await (await Client.AllocateAsync("order-1", "RED-CHAIR", 3)).ShouldBeAllocatedAsync();
        var response = await Client.GetAsync("/allocations/order-1");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.JsonAsync())[0].GetProperty("batchref").GetString().ShouldBe(batchRef);
    }

    private static string[] Lines(JsonElement allocations) =>
        [.. allocations.EnumerateArray().Select(line => $"{line.GetProperty("sku").GetString()} {line.GetProperty("batchref").GetString()}")];
}
