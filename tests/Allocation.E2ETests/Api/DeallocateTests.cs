using System.Net;
using Allocation.E2ETests.Support;

namespace Allocation.E2ETests.Api;

[Category("E2E")]
public class DeallocateTests : ApiFixture
{
    [Test]
    public async Task CancellingALineAnswersTheBatchItLeftAndFreesItsStock()
    {
        await (await Client.AddBatchAsync("batch-1", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        await (await Client.AllocateAsync("order-1", "RED-CHAIR", 3)).ShouldBeAllocatedAsync();

        var response = await Client.DeallocateAsync("order-1", "RED-CHAIR");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).ShouldBe("""{"batchref":"batch-1"}""");
        (await Store.RowsAsync("SELECT reference, allocated_quantity FROM batches")).ShouldBe(["batch-1 | 0"]);
        await (await Client.GetAsync("/allocations/order-1")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        (await Store.RowsAsync("SELECT type FROM outbox ORDER BY id")).ShouldBe(["Allocated", "LineCancelled"]);
    }

    [Test]
    public async Task CancellingALineThatIsNotAllocatedIsNotFoundAndChangesNothing()
    {
        await (await Client.AddBatchAsync("batch-1", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        await (await Client.AllocateAsync("order-1", "RED-CHAIR", 3)).ShouldBeAllocatedAsync();
        var before = await Store.SnapshotAsync();

        var response = await Client.DeallocateAsync("order-2", "RED-CHAIR");

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.NotFound);
        problem.Message().ShouldBe("Order order-2 has no allocated line of sku RED-CHAIR");
        (await Store.SnapshotAsync()).ShouldBe(before);
    }

    [Test]
    public async Task CancellingTwiceIsNotFoundTheSecondTime()
    {
        await (await Client.AddBatchAsync("batch-1", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        await (await Client.AllocateAsync("order-1", "RED-CHAIR", 3)).ShouldBeAllocatedAsync();
        (await Client.DeallocateAsync("order-1", "RED-CHAIR")).StatusCode.ShouldBe(HttpStatusCode.OK);

        var again = await Client.DeallocateAsync("order-1", "RED-CHAIR");

        await again.ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [TestCase("""{"sku": "RED-CHAIR"}""", "orderid", TestName = "missing orderid")]
    [TestCase("""{"orderid": "order-1"}""", "sku", TestName = "missing sku")]
    [TestCase("""{"orderid": "", "sku": "RED-CHAIR"}""", "orderid", TestName = "empty orderid")]
    [TestCase("""{"orderid": "order-1", "sku": 7}""", "sku", TestName = "sku of the wrong type")]
    public async Task InvalidInputIsRefusedWithTheFieldNamed(string body, string field)
    {
        var response = await Client.PostJsonAsync("/deallocate", body);

        await response.ShouldBeInvalidAsync(field);
    }
}
