using System.Net;
using Allocation.E2ETests.Support;
using Allocation.Testing;

namespace Allocation.E2ETests.Messaging;

/// <summary>Redis goes away and comes back on the same port while the service runs.</summary>
[Category("E2E")]
public class RedisReconnectionTests
{
    private const string Sku = "BLUE-VASE";

    [Test]
    public async Task AllocationsMadeWhileRedisIsDownArePublishedOnceItIsBack()
    {
        await using var redis = await RedisTestServer.StartAsync(stoppable: true);
        await using var app = new AllocationApp(redis: redis.ConnectionString);
        using var client = app.CreateClient();
        (await client.AddBatchAsync("batch-1", Sku, 1_000)).StatusCode.ShouldBe(HttpStatusCode.Created);
        var orders = Enumerable.Range(1, 200).Select(i => $"order-{i}").ToList();
        await redis.StopAsync();

        var answers = await AllocateEachAsync(client, orders);
        RedisListener? listener = null;
        await redis.StartAgainAsync(async configuration => listener = await RedisListener.SubscribeAsync(configuration, app.OutboundChannel));
        await using var downstream = listener!;

        answers.ShouldAllBe(status => status == HttpStatusCode.Created);
        var messageIds = app.Database.Outbox("Allocated").Select(row => row.MessageId).ToHashSet();
        messageIds.Count.ShouldBe(orders.Count);
        var received = await downstream.WaitUntilAsync(
            messages => messageIds.IsSubsetOf(messages.Select(message => message.Text("message_id") ?? "")), Eventually.Patience);
        received.Select(message => message.Text("orderid")).Distinct().Order().ShouldBe(orders.Order());
    }

    [Test]
    public async Task HttpServesWhileRedisIsDown()
    {
        await using var redis = await RedisTestServer.StartAsync(stoppable: true);
        await using var app = new AllocationApp(redis: redis.ConnectionString);
        using var client = app.CreateClient();
        (await client.AddBatchAsync("batch-1", Sku, 10)).StatusCode.ShouldBe(HttpStatusCode.Created);

        await redis.StopAsync();

        (await client.AddBatchAsync("batch-2", "RED-CHAIR", 10)).StatusCode.ShouldBe(HttpStatusCode.Created);
        using var allocated = await client.AllocateAsync("order-1", "RED-CHAIR", 3);
        allocated.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await allocated.JsonAsync()).Text("batchref").ShouldBe("batch-2");
        (await client.BatchOfAsync("order-1", "RED-CHAIR")).ShouldBe("batch-2");
    }

    [Test]
    public async Task InboundMessagesAreHandledAgainAfterRedisRestarts()
    {
        await using var redis = await RedisTestServer.StartAsync(stoppable: true);
        await using var app = new AllocationApp(redis: redis.ConnectionString);
        using var client = app.CreateClient();
        await client.PlaceOrderInEarlierOfTwoBatchesAsync("order-1", Sku, "batch-earlier", "batch-later");
        await using (var beforeOutage = await RedisPublisher.ConnectAsync(redis.ConnectionString))
        {
            await beforeOutage.WaitForSubscriberAsync(app.InboundChannel, Eventually.Patience);
        }

        await redis.StopAsync();
        await redis.StartAgainAsync();
        await using var upstream = await RedisPublisher.ConnectAsync(redis.ConnectionString);
        await upstream.WaitForSubscriberAsync(app.InboundChannel, Eventually.Patience);
        await upstream.PublishAsync(app.InboundChannel, """{"batchref": "batch-earlier", "qty": 5}""");

        (await client.AllocatedTo("order-1", Sku, "batch-later")).ShouldBe("batch-later");
    }

    [Test]
    public async Task ServiceStartedWithoutRedisHandlesInboundMessagesOnceRedisComesUp()
    {
        await using var redis = await RedisTestServer.StartAsync(stoppable: true);
        await redis.StopAsync();
        await using var app = new AllocationApp(redis: redis.ConnectionString);
        using var client = app.CreateClient();
        await client.PlaceOrderInEarlierOfTwoBatchesAsync("order-1", Sku, "batch-earlier", "batch-later");
        await redis.StartAgainAsync();
        await using var upstream = await RedisPublisher.ConnectAsync(redis.ConnectionString);
        await upstream.WaitForSubscriberAsync(app.InboundChannel, Eventually.Patience);

        await upstream.PublishAsync(app.InboundChannel, """{"batchref": "batch-earlier", "qty": 5}""");

        (await client.AllocatedTo("order-1", Sku, "batch-later")).ShouldBe("batch-later");
    }

    [Test]
    public async Task AnOutageIsLoggedOnceWhenItStartsAndOnceWhenItEndsWithoutStackTraces()
    {
        await using var redis = await RedisTestServer.StartAsync(stoppable: true);
        using var database = new TestDatabase();
        var settings = ServiceProcess.Standalone(database);
        settings["ConnectionStrings:Redis"] = redis.ConnectionString;
        await using var service = await ServiceProcess.StartAsync(settings);
        using var client = service.CreateClient();
        (await client.AddBatchAsync("batch-1", Sku, 1_000)).StatusCode.ShouldBe(HttpStatusCode.Created);
        await redis.StopAsync();
        var linesBefore = service.Lines().Count;

        (await AllocateEachAsync(client, Enumerable.Range(1, 100).Select(i => $"order-{i}"))).ShouldAllBe(status => status == HttpStatusCode.Created);
        await Task.Delay(TimeSpan.FromSeconds(4));
        await redis.StartAgainAsync();
        await service.WaitForOutputAsync(line => line.Contains("available again", StringComparison.Ordinal), "the outage's end to be logged");

        var during = service.Lines().Skip(linesBefore).ToList();
        during.Count(line => line.Contains("destination is unavailable", StringComparison.Ordinal)).ShouldBe(1, string.Join(Environment.NewLine, during));
        during.Count(line => line.Contains("available again", StringComparison.Ordinal)).ShouldBe(1);
        during.ShouldNotContain(line => line.TrimStart().StartsWith("at ", StringComparison.Ordinal), string.Join(Environment.NewLine, during));
        during.Count(line => line.Contains(" WRN]", StringComparison.Ordinal) || line.Contains(" ERR]", StringComparison.Ordinal)).ShouldBeLessThan(10, string.Join(Environment.NewLine, during));
    }

    private static async Task<List<HttpStatusCode>> AllocateEachAsync(HttpClient client, IEnumerable<string> orders)
    {
        var answers = new List<HttpStatusCode>();
        await Parallel.ForEachAsync(orders, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (order, _) =>
        {
            using var response = await client.AllocateAsync(order, Sku, 1);
            lock (answers)
            {
                answers.Add(response.StatusCode);
            }
        });
        return answers;
    }
}
