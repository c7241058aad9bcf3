using System.Net;
using Allocation.E2ETests.Support;
using Allocation.Testing;

namespace Allocation.E2ETests.Messaging;

/// <summary>The service as a process of its own, killed abruptly while events wait in its outbox.</summary>
[Category("E2E")]
public class OutboxRecoveryTests
{
    private const string Sku = "GREEN-LAMP";

    [Test]
    public async Task EventsLeftUnsentWhenTheServiceIsKilledArePublishedAfterItRestarts()
    {
        await using var redis = await RedisTestServer.StartAsync(stoppable: true);
        await redis.StopAsync();
        using var database = new TestDatabase();
        var outbound = $"line_allocated.{Guid.NewGuid():N}";
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:Allocation"] = database.ConnectionString,
            ["ConnectionStrings:Redis"] = $"{redis.ConnectionString},connectTimeout=500",
            ["Redis:Embedded"] = "false",
            ["Messaging:InboundChannel"] = $"change_batch_quantity.{Guid.NewGuid():N}",
            ["Messaging:OutboundChannel"] = outbound,
            ["Outbox:PollIntervalMs"] = "200",
        };
        var orders = Enumerable.Range(1, 20).Select(i => $"order-{i}").ToList();
        await using (var service = await ServiceProcess.StartAsync(settings))
        {
            using var client = service.CreateClient();
            (await client.AddBatchAsync("batch-1", Sku, 100)).StatusCode.ShouldBe(HttpStatusCode.Created);
            foreach (var order in orders)
            {
                (await client.AllocateAsync(order, Sku, 2)).StatusCode.ShouldBe(HttpStatusCode.Created);
            }

            database.Outbox("Allocated").ShouldAllBe(row => !row.Dispatched);
            await service.KillAsync();
        }

        var unsent = database.Outbox("Allocated").Where(row => !row.Dispatched).Select(row => row.MessageId).ToHashSet();
        await redis.StartAgainAsync();
        await using var downstream = await RedisListener.SubscribeAsync(redis.ConnectionString, outbound);

        await using var restarted = await ServiceProcess.StartAsync(settings);

        var received = await downstream.WaitUntilAsync(
            messages => unsent.IsSubsetOf(messages.Select(message => message.Text("message_id") ?? "")), Eventually.Patience);
        unsent.Count.ShouldBe(orders.Count);
        received.Select(message => message.Text("orderid")).Distinct().Order().ShouldBe(orders.Order());
    }
}
