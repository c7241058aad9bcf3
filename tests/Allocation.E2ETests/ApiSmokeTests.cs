using System.Net;
using Allocation.E2ETests.Support;

namespace Allocation.E2ETests;

[Category("E2E")]
public class ApiSmokeTests
{
    [Test]
    public async Task AllocatesThroughTheRealPipeline()
    {
        await using var app = new AllocationApp();
        using var client = app.CreateClient();

        (await client.AddBatchAsync("batch-1", "RED-CHAIR", 10)).StatusCode.ShouldBe(HttpStatusCode.Created);
        var response = await client.AllocateAsync("order-1", "RED-CHAIR", 3);

        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await response.JsonAsync()).GetProperty("batchref").GetString().ShouldBe("batch-1");
    }
}
