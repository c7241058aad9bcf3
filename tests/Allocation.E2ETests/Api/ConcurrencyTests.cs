using System.Collections.Concurrent;
using System.Net;
using Allocation.E2ETests.Support;

namespace Allocation.E2ETests.Api;

[Category("E2E")]
public class ConcurrencyTests : ApiFixture
{
    private const int Clients = 16;

    [Test]
    public async Task ConcurrentOrdersNeverAllocateMoreThanTheBatchHolds()
    {
        using (var setup = App.CreateClient())
        {
            await (await setup.AddBatchAsync("batch-1", "RED-CHAIR", 100)).ShouldBeCreatedAsync();
        }

        var orderIds = Enumerable.Range(1, 300).Select(number => $"order-{number:000}").ToArray();
        var answers = await SendConcurrentlyAsync(orderIds, (client, orderId) => client.AllocateAsync(orderId, "RED-CHAIR", 1));

        answers.Values.Where(answer => answer.Status >= 500).ShouldBeEmpty();
        var allocated = answers.Where(pair => pair.Value.Status == 201).Select(pair => pair.Key).ToArray();
        allocated.Length.ShouldBe(100);
        answers.Values.Where(answer => answer.Status == 201).Select(answer => answer.Body).Distinct().ShouldBe(["""{"batchref":"batch-1"}"""]);
        var refused = answers.Values.Where(answer => answer.Status == 409).ToArray();
        refused.Length.ShouldBe(200);
        refused.ShouldAllBe(answer => answer.Body.Contains("\"message\":\"Out of stock for sku RED-CHAIR\""));
        (await Store.CountAsync("SELECT allocated_quantity FROM batches WHERE reference = 'batch-1'")).ShouldBe(100);
        (await Store.CountAsync("SELECT count(*) FROM allocations")).ShouldBe(100);
        (await Store.RowsAsync("SELECT orderid FROM allocations ORDER BY orderid")).ShouldBe(allocated.Order(StringComparer.Ordinal));
        using var reader = App.CreateClient();
        foreach (var orderId in allocated)
        {
            (await reader.GetStringAsync($"/allocations/{orderId}")).ShouldBe("""[{"sku":"RED-CHAIR","batchref":"batch-1"}]""");
        }
    }

    [Test]
    public async Task ConcurrentRepeatsOfOneLineAllocateItOnce()
    {
        using (var setup = App.CreateClient())
        {
            await (await setup.AddBatchAsync("batch-1", "RED-CHAIR", 100)).ShouldBeCreatedAsync();
        }

        var answers = await SendConcurrentlyAsync(Enumerable.Range(1, 48), (client, _) => client.AllocateAsync("order-1", "RED-CHAIR", 5));

        answers.Values.ShouldAllBe(answer => answer.Status == 201 && answer.Body == """{"batchref":"batch-1"}""");
        (await Store.RowsAsync("SELECT orderid, qty FROM allocations")).ShouldBe(["order-1 | 5"]);
        (await Store.CountAsync("SELECT allocated_quantity FROM batches WHERE reference = 'batch-1'")).ShouldBe(5);
        (await Store.CountAsync("SELECT count(*) FROM outbox WHERE type = 'Allocated'")).ShouldBe(1);
    }

    [Test]
    public async Task ConcurrentRepostsOfOneBatchAddItOnce()
    {
        var answers = await SendConcurrentlyAsync(Enumerable.Range(1, 48), (client, _) => client.AddBatchAsync("batch-1", "RED-CHAIR", 100, "2011-01-02"));

        answers.Values.ShouldAllBe(answer => answer.Status == 201);
        (await Store.RowsAsync("SELECT reference, sku, purchased_quantity, eta FROM batches")).ShouldBe(["batch-1 | RED-CHAIR | 100 | 2011-01-02"]);
        (await Store.RowsAsync("SELECT sku, version_number FROM products")).ShouldBe(["RED-CHAIR | 1"]);
    }

    [Test]
    public async Task ConcurrentOrdersForDifferentSkusAllSucceed()
    {
        var skus = Enumerable.Range(1, 8).Select(number => $"SKU-{number}").ToArray();
        using (var setup = App.CreateClient())
        {
            foreach (var sku in skus)
            {
                await (await setup.AddBatchAsync($"batch-{sku}", sku, 20)).ShouldBeCreatedAsync();
            }
        }

        var lines = skus.SelectMany(sku => Enumerable.Range(1, 20).Select(number => (OrderId: $"order-{number}", Sku: sku))).ToArray();
        var answers = await SendConcurrentlyAsync(lines, (client, line) => client.AllocateAsync(line.OrderId, line.Sku, 1));

        answers.Values.ShouldAllBe(answer => answer.Status == 201);
        (await Store.RowsAsync("SELECT sku, allocated_quantity FROM batches ORDER BY sku"))
            .ShouldBe(skus.Select(sku => $"{sku} | 20"));
        (await Store.CountAsync("SELECT count(*) FROM allocations")).ShouldBe(160);
    }

    /// <summary>Sends one request per item from <see cref="Clients"/> clients at once; answers keyed by item.</summary>
    private async Task<IReadOnlyDictionary<T, Answer>> SendConcurrentlyAsync<T>(IEnumerable<T> items, Func<HttpClient, T, Task<HttpResponseMessage>> send)
        where T : notnull
    {
        var queue = new ConcurrentQueue<T>(items);
        var answers = new ConcurrentDictionary<T, Answer>();
        var clients = Enumerable.Range(0, Clients).Select(_ => App.CreateClient()).ToArray();
        using var start = new ManualResetEventSlim();
        try
        {
            var workers = clients.Select(client => Task.Run(async () =>
            {
                start.Wait();
                while (queue.TryDequeue(out var item))
                {
                    using var response = await send(client, item);
                    answers[item] = new Answer((int)response.StatusCode, await response.Content.ReadAsStringAsync());
                }
            })).ToArray();
            start.Set();
            await Task.WhenAll(workers);
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }

        return answers;
    }

    private sealed record Answer(int Status, string Body);
}
