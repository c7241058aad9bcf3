using System.Net;
using Allocation.E2ETests.Support;
using Allocation.Testing;

namespace Allocation.E2ETests.Messaging;

/// <summary>The inbound channel: <c>{"batchref", "qty"}</c> from upstream systems, through the running service.</summary>
[Category("E2E")]
public class ChangeBatchQuantityMessageTests
{
    private const string Sku = "RED-CHAIR";
    private const string Earlier = "batch-earlier";
    private const string Later = "batch-later";
    private const string Order = "order-1";

    [Test]
    public async Task ShrinkingABatchMovesItsLineToTheNextBatchAndPublishesLineAllocated()
    {
        await using var redis = await RedisTestServer.StartAsync();
        await using var app = new AllocationApp(redis: redis.ConnectionString);
        using var client = app.CreateClient();
        await using var upstream = await RedisPublisher.ConnectAsync(redis.ConnectionString);
        await using var downstream = await RedisListener.SubscribeAsync(redis.ConnectionString, app.OutboundChannel);
        (await client.AddBatchAsync(Earlier, Sku, 10, "2011-01-02")).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await client.AddBatchAsync(Later, Sku, 10, "2011-01-02")).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await (await client.AllocateAsync(Order, Sku, 10)).JsonAsync()).Text("batchref").ShouldBe(Earlier);
        await upstream.WaitForSubscriberAsync(app.InboundChannel, Eventually.Patience);

        await upstream.PublishAsync(app.InboundChannel, $$"""{"batchref": "{{Earlier}}", "qty": 5}""");

        var message = await downstream.WaitForAsync(message => message.Text("batchref") == Later, Eventually.Patience);
        message.EnumerateObject().Select(field => field.Name).ShouldBe(["orderid", "sku", "qty", "batchref", "message_id"], ignoreOrder: true);
        message.Text("orderid").ShouldBe(Order);
        message.Text("sku").ShouldBe(Sku);
        message.GetProperty("qty").GetInt32().ShouldBe(10);
        message.Text("message_id").ShouldNotBeNullOrWhiteSpace();
        (await client.BatchOfAsync(Order, Sku)).ShouldBe(Later);
    }

    [Test]
    public async Task PoisonMessagesAreDeadLetteredAndTheConsumerGoesOnWithTheNextMessage()
    {
        await using var redis = await RedisTestServer.StartAsync();
        await using var app = new AllocationApp(redis: redis.ConnectionString);
        using var client = app.CreateClient();
        await using var upstream = await RedisPublisher.ConnectAsync(redis.ConnectionString);
        await ArrangeOrderInEarlierBatchAsync(client);
        await upstream.WaitForSubscriberAsync(app.InboundChannel, Eventually.Patience);
        string[] poison =
        [
            "not json at all",
            $$"""[{"batchref": "{{Earlier}}", "qty": 5}]""",
            """{"qty": 5}""",
            $$"""{"batchref": "{{Earlier}}"}""",
            $$"""{"batchref": "{{Earlier}}", "qty": "5"}""",
            $$"""{"batchref": "{{Earlier}}", "qty": 1.5}""",
            $$"""{"batchref": "{{Earlier}}", "qty": -1}""",
            """{"batchref": "", "qty": 5}""",
            """{"batchref": "no-such-batch", "qty": 5}""",
            $$"""{"batchref": "{{Earlier}}", "qty": 5, "padding": "{{new string('x', 70 * 1024)}}"}""",
        ];

        foreach (var payload in poison)
        {
            await upstream.PublishAsync(app.InboundChannel, payload);
        }

        await upstream.PublishAsync(app.InboundChannel, $$"""{"batchref": "{{Earlier}}", "qty": 5}""");

        await client.AllocatedTo(Order, Sku, Later);
        var deadLetters = app.Database.DeadLetters();
        deadLetters.Count.ShouldBe(poison.Length);
        for (var i = 0; i < poison.Length; i++)
        {
            deadLetters[i].Source.ShouldBe($"redis:{app.InboundChannel}");
            deadLetters[i].Payload.ShouldNotBeEmpty();
            poison[i].ShouldStartWith(deadLetters[i].Payload, customMessage: $"dead letter {i} holds another payload");
            deadLetters[i].Error.ShouldNotBeNullOrWhiteSpace();
        }
    }

    [Test]
    public async Task UnknownExtraFieldsAreIgnored()
    {
        await using var redis = await RedisTestServer.StartAsync();
        await using var app = new AllocationApp(redis: redis.ConnectionString);
        using var client = app.CreateClient();
        await using var upstream = await RedisPublisher.ConnectAsync(redis.ConnectionString);
        await ArrangeOrderInEarlierBatchAsync(client);
        await upstream.WaitForSubscriberAsync(app.InboundChannel, Eventually.Patience);

        await upstream.PublishAsync(app.InboundChannel, $$$"""{"sent_by": "erp", "batchref": "{{{Earlier}}}", "qty": 5, "meta": {"tags": [1, null]}}""");

        await client.AllocatedTo(Order, Sku, Later);
        app.Database.DeadLetters().ShouldBeEmpty();
    }

    private static async Task ArrangeOrderInEarlierBatchAsync(HttpClient client)
    {
        (await client.AddBatchAsync(Earlier, Sku, 10, "2011-01-02")).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await client.AddBatchAsync(Later, Sku, 10, "2011-01-02")).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await (await client.AllocateAsync(Order, Sku, 10)).JsonAsync()).Text("batchref").ShouldBe(Earlier);
    }
}
