using System.Net;
using Allocation.E2ETests.Api;
using Allocation.E2ETests.Operations;
using Allocation.E2ETests.Support;
using Allocation.Testing;

namespace Allocation.E2ETests.Messaging;

/// <summary>
/// <c>Messaging:Transport=Streams</c> inbound: entries of the <c>change_batch_quantity</c> stream, read through the
/// service's consumer group, through the running service.
/// </summary>
[Category("E2E")]
public class StreamsInboundTests
{
    private const string Sku = "RED-CHAIR";
    private const string Earlier = "batch-earlier";
    private const string Later = "batch-later";
    private const string Order = "order-1";
    private const string Group = "allocation";

    private RedisTestServer _redis = null!;
    private RedisStreams _streams = null!;
    private AllocationApp _app = null!;
    private HttpClient _client = null!;

    private string Stream => _app.InboundChannel;

    [SetUp]
    public async Task StartServiceOnStreams()
    {
        _redis = await RedisTestServer.StartAsync();
        _streams = await RedisStreams.ConnectAsync(_redis);
        _app = StartService();
        _client = _app.CreateClient();
    }

    [TearDown]
    public async Task StopService()
    {
        try
        {
            _client?.Dispose();
            if (_app is not null)
            {
                await _app.DisposeAsync();
            }

            if (_streams is not null)
            {
                await _streams.DisposeAsync();
            }
        }
        finally
        {
            await _redis.DisposeAsync();
        }
    }

    [Test]
    public async Task AnEntryShrinkingABatchMovesItsLineAndIsAcknowledged()
    {
        await _client.PlaceOrderInEarlierOfTwoBatchesAsync(Order, Sku, Earlier, Later);
        await _app.WaitUntilConsumingAsync(Eventually.Patience);

        await _streams.AddAsync(Stream, $$"""{"batchref": "{{Earlier}}", "qty": 5}""");

        await _client.AllocatedTo(Order, Sku, Later);
        await PendingBecomesZeroAsync();
        _app.Database.DeadLetters().ShouldBeEmpty();
    }

    [Test]
    public async Task TheConsumerGroupIsCreatedAtTheStreamsEndSoEntriesAddedBeforeTheFirstStartAreNotApplied()
    {
        var stream = $"change_batch_quantity.{Guid.NewGuid():N}";
        await _streams.AddAsync(stream, """{"batchref": "added-before", "qty": 5}""");

        await using var service = StartService(stream);
        await service.WaitUntilConsumingAsync(Eventually.Patience);
        await _streams.AddAsync(stream, """{"batchref": "added-after", "qty": 5}""");

        var deadLetters = await Eventually.Until(() => Task.FromResult(service.Database.DeadLetters()), found => found.Count > 0, "the later entry to be refused");
        deadLetters.Single().Payload.ShouldContain("added-after");
    }

    [Test]
    public async Task PoisonEntriesAreDeadLetteredAcknowledgedAndTheConsumerGoesOn()
    {
        await _client.PlaceOrderInEarlierOfTwoBatchesAsync(Order, Sku, Earlier, Later);
        await _app.WaitUntilConsumingAsync(Eventually.Patience);
        string[] poison =
        [
            "not json at all",
            $$"""{"batchref": "{{Earlier}}", "qty": "5"}""",
            $$"""{"batchref": "{{Earlier}}", "qty": 1.5}""",
            """{"batchref": "no-such-batch", "qty": 5}""",
        ];
        var ids = new List<string>();

        foreach (var payload in poison)
        {
            ids.Add(await _streams.AddAsync(Stream, payload));
        }

        ids.Add(await _streams.AddFieldsAsync(Stream, ("batchref", Earlier), ("qty", "5")));
        await _streams.AddAsync(Stream, $$"""{"batchref": "{{Earlier}}", "qty": 5}""");

        await _client.AllocatedTo(Order, Sku, Later);
        await PendingBecomesZeroAsync();
        var deadLetters = _app.Database.DeadLetters();
        deadLetters.Select(deadLetter => deadLetter.MessageId).ShouldBe(ids);
        deadLetters.ShouldAllBe(deadLetter => deadLetter.Source == $"redis-stream:{Stream}" && deadLetter.Error != "");
        deadLetters.Take(poison.Length).Select(deadLetter => deadLetter.Payload).ShouldBe(poison);
        deadLetters[^1].Payload.ShouldBe($$"""{"batchref":"{{Earlier}}","qty":"5"}""");
        deadLetters[^1].Error.ShouldContain("payload");
    }

    [Test]
    public async Task AReplayedEntryIsAppliedOnceItsBatchExists()
    {
        await _app.WaitUntilConsumingAsync(Eventually.Patience);
        await _streams.AddAsync(Stream, """{"batchref": "late-batch", "qty": 3}""");
        var id = await SingleDeadLetterIdAsync();
        await (await _client.AddBatchAsync("late-batch", Sku, 10)).ShouldBeCreatedAsync();

        var outcome = await (await _client.PostAsync(new Uri($"/dead-letters/{id}/replay", UriKind.Relative), null)).JsonAsync();

        outcome.Text("outcome").ShouldBe("applied");
        (await PurchasedAsync("late-batch")).ShouldBe(3);
    }

    [Test]
    public async Task AReplayedEntryNeverBringsBackAQuantityOlderThanOneAppliedSince()
    {
        await _app.WaitUntilConsumingAsync(Eventually.Patience);
        await _streams.AddAsync(Stream, """{"batchref": "late-batch", "qty": 3}""");
        var id = await SingleDeadLetterIdAsync();
        await (await _client.AddBatchAsync("late-batch", Sku, 10)).ShouldBeCreatedAsync();
        await _streams.AddAsync(Stream, """{"batchref": "late-batch", "qty": 7}""");
        await Eventually.Until(() => PurchasedAsync("late-batch"), purchased => purchased == 7, "the newer entry to be applied");

        var outcome = await (await _client.PostAsync(new Uri($"/dead-letters/{id}/replay", UriKind.Relative), null)).JsonAsync();

        outcome.Text("outcome").ShouldBe("applied");
        (await PurchasedAsync("late-batch")).ShouldBe(7);
    }

    [Test]
    public async Task AnEntryClaimedFromAConsumerThatDiedAfterANewerOneWasAppliedNeverMovesTheBatchBack()
    {
        var stream = $"change_batch_quantity.{Guid.NewGuid():N}";
        await (await _client.AddBatchAsync("batch-1", Sku, 10)).ShouldBeCreatedAsync();
        await _streams.CreateGroupAsync(stream, Group);
        await _streams.AddAsync(stream, """{"batchref": "batch-1", "qty": 3}""");
        (await _streams.ReadGroupAsync(stream, Group, "a-consumer-that-died", ">")).Count.ShouldBe(1);
        await _streams.AddAsync(stream, """{"batchref": "batch-1", "qty": 7}""");
        await using (var first = StartService(stream, _app.Database, claimIdleTime: "1.00:00:00"))
        {
            using var client = first.CreateClient();
            await Eventually.Until(() => PurchasedAsync("batch-1", client), purchased => purchased == 7, "the newer entry to be applied");
        }

        await using var second = StartService(stream, _app.Database);
        using var secondClient = second.CreateClient();

        await Eventually.Until(() => _streams.PendingAsync(stream, Group), pending => pending == 0, "the older entry to be claimed and acknowledged");
        (await PurchasedAsync("batch-1", secondClient)).ShouldBe(7);
        (await ScrapeAsync(secondClient, "allocation_stream_entries_claimed_total", ("stream", stream))).ShouldBe(1);
    }

    [Test]
    public async Task AnEntryDeliveredAgainAfterANewerOneWasAppliedNeverMovesTheBatchBack()
    {
        await (await _client.AddBatchAsync("batch-1", Sku, 10)).ShouldBeCreatedAsync();
        await _app.WaitUntilConsumingAsync(Eventually.Patience);
        await _streams.AddAsync(Stream, """{"batchref": "batch-1", "qty": 3}""");
        var newer = await _streams.AddAsync(Stream, """{"batchref": "batch-1", "qty": 7}""");
        await Eventually.Until(() => PurchasedAsync("batch-1"), purchased => purchased == 7, "the newer entry to be applied");
        await PendingBecomesZeroAsync();

        await _streams.DeleteAsync(Stream, newer);
        await _streams.RewindGroupAsync(Stream, Group);

        await Eventually.Until(
            () => ScrapeAsync(_client, "allocation_stream_entries_read_total", ("stream", Stream)), read => read >= 3, "the older entry to be delivered again");
        await PendingBecomesZeroAsync();
        (await PurchasedAsync("batch-1")).ShouldBe(7);
    }

    [Test]
    public async Task ReadinessReportsTheConsumerGroupItsPendingEntriesAndThisConsumer()
    {
        await _app.WaitUntilConsumingAsync(Eventually.Patience);

        var response = await _client.GetAsync(new Uri("/health/ready", UriKind.Relative));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var check = (await response.JsonAsync()).GetProperty("checks").GetProperty("inbound_streams");
        check.Text("status").ShouldBe("Healthy");
        var group = check.GetProperty("data").GetProperty(Stream);
        group.Text("group").ShouldBe(Group);
        group.GetProperty("group_exists").GetBoolean().ShouldBeTrue();
        group.GetProperty("pending").GetInt64().ShouldBe(0);
        group.Text("consumer").ShouldStartWith($"{Environment.MachineName}-{Environment.ProcessId}-");
    }

    [Test]
    public async Task EntriesAreCountedAsReadAcknowledgedAndDeadLettered()
    {
        await (await _client.AddBatchAsync("batch-1", Sku, 10)).ShouldBeCreatedAsync();
        await _app.WaitUntilConsumingAsync(Eventually.Patience);

        await _streams.AddAsync(Stream, """{"batchref": "batch-1", "qty": 5}""");
        await _streams.AddAsync(Stream, "not json");
        await PendingBecomesZeroAsync();

        var labels = ("stream", Stream);
        (await Eventually.Until(() => ScrapeAsync(_client, "allocation_stream_entries_acknowledged_total", labels), count => count >= 2, "both entries to be counted"))
            .ShouldBe(2);
        (await ScrapeAsync(_client, "allocation_stream_entries_read_total", labels)).ShouldBe(2);
        (await ScrapeAsync(_client, "allocation_stream_entries_dead_lettered_total", labels)).ShouldBe(1);
        (await ScrapeAsync(_client, "allocation_inbound_messages_total", ("channel", Stream), ("transport", "streams"), ("outcome", "applied"))).ShouldBe(1);
        (await _client.GetStringAsync(new Uri("/metrics", UriKind.Relative))).Split('\n').ShouldContain(
            line => line.StartsWith("allocation_stream_pending{", StringComparison.Ordinal) && line.Contains($"stream=\"{Stream}\"", StringComparison.Ordinal),
            "the pending gauge of the inbound stream");
    }

    [Test]
    public async Task ReadinessFailsWhileRedisIsDown()
    {
        await using var redis = await RedisTestServer.StartAsync(stoppable: true);
        await using var service = new AllocationApp(redis.ConnectionString, new Dictionary<string, string?> { ["Messaging:Transport"] = "Streams" });
        using var client = service.CreateClient();
        await service.WaitUntilConsumingAsync(Eventually.Patience);

        await redis.StopAsync();

        var response = await Eventually.Until(
            () => client.GetAsync(new Uri("/health/ready", UriKind.Relative)), answer => answer.StatusCode == HttpStatusCode.ServiceUnavailable, "readiness to fail");
        var check = (await response.JsonAsync()).GetProperty("checks").GetProperty("inbound_streams");
        check.Text("status").ShouldBe("Unhealthy");
        check.Text("description").ShouldNotBeNull().ShouldContain("connection is down");
    }

    [Test]
    public async Task TheStreamIsConsumedAgainOnceRedisIsBack()
    {
        await using var redis = await RedisTestServer.StartAsync(stoppable: true);
        await using var service = new AllocationApp(redis.ConnectionString, new Dictionary<string, string?> { ["Messaging:Transport"] = "Streams" });
        using var client = service.CreateClient();
        await client.PlaceOrderInEarlierOfTwoBatchesAsync(Order, Sku, Earlier, Later);
        await service.WaitUntilConsumingAsync(Eventually.Patience);
        await redis.StopAsync();

        await redis.StartAgainAsync();
        await using var streams = await RedisStreams.ConnectAsync(redis);
        await streams.WaitForGroupAsync(service.InboundChannel, Group);
        await streams.AddAsync(service.InboundChannel, $$"""{"batchref": "{{Earlier}}", "qty": 5}""");

        await client.AllocatedTo(Order, Sku, Later);
        await Eventually.Until(
            async () => (await client.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode, status => status == HttpStatusCode.OK, "readiness to return");
    }

    private AllocationApp StartService(string? stream = null, TestDatabase? database = null, string claimIdleTime = "00:00:01")
    {
        var settings = new Dictionary<string, string?>
        {
            ["Messaging:Transport"] = "Streams",
            ["Messaging:ClaimIdleTime"] = claimIdleTime,
        };
        if (stream is not null)
        {
            settings["Messaging:InboundChannel"] = stream;
        }

        return new AllocationApp(_redis.ConnectionString, settings, database);
    }

    private Task PendingBecomesZeroAsync() =>
        Eventually.Until(() => _streams.PendingAsync(Stream, Group), pending => pending == 0, "every entry to be acknowledged");

    private async Task<long> SingleDeadLetterIdAsync()
    {
        var page = await Eventually.Until(
            async () => await (await _client.GetAsync(new Uri("/dead-letters", UriKind.Relative))).JsonAsync(),
            page => page.GetProperty("items").GetArrayLength() == 1,
            "one dead letter");
        return page.GetProperty("items")[0].GetProperty("id").GetInt64();
    }

    private async Task<int> PurchasedAsync(string batch, HttpClient? client = null) =>
        (await (await (client ?? _client).GetAsync(new Uri($"/batches/{batch}", UriKind.Relative))).JsonAsync()).GetProperty("purchased").GetInt32();

    private static async Task<double> ScrapeAsync(HttpClient client, string name, params (string Name, string Value)[] labels) =>
        PrometheusText.Sample(await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)), name, labels);
}
