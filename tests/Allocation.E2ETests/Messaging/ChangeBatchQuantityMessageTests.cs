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

    private RedisTestServer _redis = null!;
    private AllocationApp _app = null!;
    private HttpClient _client = null!;
    private RedisPublisher _upstream = null!;

    [SetUp]
    public async Task StartServiceOnRedis()
    {
        _redis = await RedisTestServer.StartAsync();
        _app = new AllocationApp(redis: _redis.ConnectionString);
        _client = _app.CreateClient();
        _upstream = await RedisPublisher.ConnectAsync(_redis.ConnectionString);
    }

    // NUnit tears down after a set-up that failed part-way too: the Redis server, a process of its own, must
    // be stopped whatever else was left unstarted.
    [TearDown]
    public async Task StopService()
    {
        try
        {
            await _upstream.DisposeAsync();
            _client.Dispose();
            await _app.DisposeAsync();
        }
        finally
        {
            await _redis.DisposeAsync();
        }
    }

    [Test]
    public async Task ShrinkingABatchMovesItsLineToTheNextBatchAndPublishesLineAllocated()
    {
        await using var downstream = await RedisListener.SubscribeAsync(_redis.ConnectionString, _app.OutboundChannel);
        await _client.PlaceOrderInEarlierOfTwoBatchesAsync(Order, Sku, Earlier, Later);
        await _upstream.WaitUntilHeardAsync(_app);

        await _upstream.PublishAsync(_app.InboundChannel, $$"""{"batchref": "{{Earlier}}", "qty": 5}""");

        var message = await downstream.WaitForAsync(message => message.Text("batchref") == Later, Eventually.Patience);
        message.EnumerateObject().Select(field => field.Name).ShouldBe(["orderid", "sku", "qty", "batchref", "message_id"], ignoreOrder: true);
        message.Text("orderid").ShouldBe(Order);
        message.Text("sku").ShouldBe(Sku);
        message.GetProperty("qty").GetInt32().ShouldBe(10);
        message.Text("message_id").ShouldNotBeNullOrWhiteSpace();
        (await _client.BatchOfAsync(Order, Sku)).ShouldBe(Later);
    }

    [Test]
    public async Task PoisonMessagesAreDeadLetteredAndTheConsumerGoesOnWithTheNextMessage()
    {
        await _client.PlaceOrderInEarlierOfTwoBatchesAsync(Order, Sku, Earlier, Later);
        await _upstream.WaitUntilHeardAsync(_app);
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
            await _upstream.PublishAsync(_app.InboundChannel, payload);
        }

        await _upstream.PublishAsync(_app.InboundChannel, $$"""{"batchref": "{{Earlier}}", "qty": 5}""");

        await _client.AllocatedTo(Order, Sku, Later);
        var deadLetters = _app.Database.DeadLetters();
        deadLetters.Count.ShouldBe(poison.Length);
        for (var i = 0; i < poison.Length; i++)
        {
            deadLetters[i].Source.ShouldBe($"redis:{_app.InboundChannel}");
            deadLetters[i].Payload.ShouldNotBeEmpty();
            poison[i].ShouldStartWith(deadLetters[i].Payload, customMessage: $"dead letter {i} holds another payload");
            deadLetters[i].Error.ShouldNotBeNullOrWhiteSpace();
        }
    }

    [Test]
    public async Task APayloadWithBytesThatAreNotUtf8IsDeadLetteredEvenWhereTheyAreInAnIgnoredField()
    {
        await _client.PlaceOrderInEarlierOfTwoBatchesAsync(Order, Sku, Earlier, Later);
        await _upstream.WaitUntilHeardAsync(_app);
        byte[] payload = [.. System.Text.Encoding.UTF8.GetBytes($$"""{"batchref": "{{Earlier}}", "qty": 5, "note": "caf"""), 0xE9, .. "\"}"u8];

        await _upstream.PublishAsync(_app.InboundChannel, payload);

        await Eventually.Until(() => Task.FromResult(_app.Database.DeadLetters().Count), count => count == 1, "the dead letter");
        var deadLetter = _app.Database.DeadLetters().ShouldHaveSingleItem();
        deadLetter.Bytes.ShouldBe(payload);
        deadLetter.Error.ShouldContain("UTF-8");
        (await _client.BatchOfAsync(Order, Sku)).ShouldBe(Earlier);
    }

    [Test]
    public async Task UnknownExtraFieldsAreIgnored()
    {
        await _client.PlaceOrderInEarlierOfTwoBatchesAsync(Order, Sku, Earlier, Later);
        await _upstream.WaitUntilHeardAsync(_app);

        await _upstream.PublishAsync(_app.InboundChannel, $$$"""{"sent_by": "erp", "batchref": "{{{Earlier}}}", "qty": 5, "meta": {"tags": [1, null]}}""");

        await _client.AllocatedTo(Order, Sku, Later);
        _app.Database.DeadLetters().ShouldBeEmpty();
    }
}
