using System.Net;

namespace Allocation.E2ETests.Support;

public static class TwoBatches
{
    /// <summary>
    /// Two batches of 10 due the same day and an order of 10 that lands in <paramref name="earlier"/>, so that
    /// shrinking that batch moves the line to <paramref name="later"/>.
    /// </summary>
    public static async Task PlaceOrderInEarlierOfTwoBatchesAsync(this HttpClient client, string orderId, string sku, string earlier, string later)
    {
        (await client.AddBatchAsync(earlier, sku, 10, "2011-01-02")).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await client.AddBatchAsync(later, sku, 10, "2011-01-02")).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await (await client.AllocateAsync(orderId, sku, 10)).JsonAsync()).Text("batchref").ShouldBe(earlier);
    }
}
