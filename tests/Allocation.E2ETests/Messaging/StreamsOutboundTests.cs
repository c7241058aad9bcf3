using System.Net;
using Allocation.E2ETests.Api;
using Allocation.E2ETests.Support;
using Allocation.Testing;

namespace Allocation.E2ETests.Messaging;

/// <summary>Outbound events appended to the <c>line_allocated</c> and <c>line_deallocated</c> streams, as downstream consumer groups read them.</summary>
[Category("E2E")]
public class StreamsOutboundTests
{
    private const string Sku = "RED-CHAIR";
    private const string Downstream = "downstream";

    private RedisTestServer _redis = null!;
    private RedisStreams _streams = null!;

    [SetUp]
    public async Task StartRedis()
    {
        _redis = await RedisTestServer.StartAsync();
        _streams = await RedisStreams.ConnectAsync(_redis);
    }

    [TearDown]
    public async Task StopRedis()
    {
        try
        {
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
    public async Task AnAllocationIsAppendedToTheOutboundStreamWithOnlyAPayloadField()
    {
        await using var app = StartService("Streams");
        using var client = app.CreateClient();
        await (await client.AddBatchAsync("batch-1", Sku, 10)).ShouldBeCreatedAsync();

        await (await client.AllocateAsync("order-1", Sku, 3)).ShouldBeAllocatedAsync();

        var entry = (await EntriesAsync(app.OutboundChannel, count: 1)).Single();
        entry.Fields.ShouldBe(["payload"]);
        entry.Payload.EnumerateObject().Select(field => field.Name).ShouldBe(["orderid", "sku", "qty", "batchref", "message_id"], ignoreOrder: true);
        (entry.Payload.Text("orderid"), entry.Payload.Text("sku"), entry.Payload.GetProperty("qty").GetInt32(), entry.Payload.Text("batchref"))
            .ShouldBe(("order-1", Sku, 3, "batch-1"));
        entry.Payload.Text("message_id").ShouldBe(app.Database.Outbox("Allocated").Single().MessageId);
    }

    [Test]
    public async Task ACancelledLineIsAppendedToTheDeallocatedStream()
    {
        await using var app = StartService("Streams");
        using var client = app.CreateClient();
        await (await client.AddBatchAsync("batch-1", Sku, 10)).ShouldBeCreatedAsync();
        await (await client.AllocateAsync("order-1", Sku, 3)).ShouldBeAllocatedAsync();

        (await client.DeallocateAsync("order-1", Sku)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var cancelled = (await EntriesAsync(app.DeallocatedChannel, count: 1)).Single();
        cancelled.Payload.Text("message_id").ShouldBe(app.Database.Outbox("LineCancelled").Single().MessageId);
        (cancelled.Payload.Text("orderid"), cancelled.Payload.Text("batchref")).ShouldBe(("order-1", "batch-1"));
        (await _streams.RangeAsync(app.OutboundChannel)).Count.ShouldBe(1);
    }

    [Test]
    public async Task ConcurrentAllocationsAreAppendedInTheOrderTheirChangesCommitted()
    {
        await using var app = StartService("Streams");
        using var client = app.CreateClient();
        await (await client.AddBatchAsync("batch-1", Sku, 1_000)).ShouldBeCreatedAsync();
        using var clients = new SemaphoreSlim(32);

        await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            await clients.WaitAsync();
            try
            {
                await (await client.AllocateAsync($"order-{i}", Sku, 1)).ShouldBeAllocatedAsync();
            }
            finally
            {
                clients.Release();
            }
        }));

        var entries = await EntriesAsync(app.OutboundChannel, count: 200);
        entries.Select(entry => entry.Payload.Text("message_id")).ShouldBe(app.Database.Outbox("Allocated").Select(row => row.MessageId));
    }

    [Test]
    public async Task ADownstreamConsumerGroupReadsEveryLineAllocatedAcrossItsOwnRestart()
    {
        await using var app = StartService("Streams");
        using var client = app.CreateClient();
        await (await client.AddBatchAsync("batch-1", Sku, 100)).ShouldBeCreatedAsync();
        await _streams.CreateGroupAsync(app.OutboundChannel, Downstream);
        await AllocateAsync(client, 0, 10);
        await EntriesAsync(app.OutboundChannel, count: 10);
        var handled = await _streams.ReadGroupAsync(app.OutboundChannel, Downstream, "me", ">", count: 4);
        await _streams.AcknowledgeAsync(app.OutboundChannel, Downstream, handled);
        var inFlightWhenItStopped = await _streams.ReadGroupAsync(app.OutboundChannel, Downstream, "me", ">", count: 3);
        await AllocateAsync(client, 10, 10);
        await EntriesAsync(app.OutboundChannel, count: 20);

        var pending = await _streams.ReadGroupAsync(app.OutboundChannel, Downstream, "me", "0");
        var rest = await _streams.ReadGroupAsync(app.OutboundChannel, Downstream, "me", ">");

        pending.Select(entry => entry.Id).ShouldBe(inFlightWhenItStopped.Select(entry => entry.Id));
        handled.Concat(pending).Concat(rest).Select(entry => entry.Payload.Text("orderid"))
            .ShouldBe(Enumerable.Range(0, 20).Select(i => $"order-{i}"), ignoreOrder: true);
        rest.Count.ShouldBe(13);
    }

    [Test]
    public async Task WithBothTransportsAnEventIsPublishedAndAppendedWithOneMessageId()
    {
        await using var app = StartService("Both");
        using var client = app.CreateClient();
        await using var subscriber = await RedisListener.SubscribeAsync(_redis.ConnectionString, app.OutboundChannel);
        await (await client.AddBatchAsync("batch-1", Sku, 10)).ShouldBeCreatedAsync();

        await (await client.AllocateAsync("order-1", Sku, 3)).ShouldBeAllocatedAsync();

        var published = await subscriber.WaitForAsync(_ => true, Eventually.Patience);
        var appended = (await EntriesAsync(app.OutboundChannel, count: 1)).Single();
        appended.Payload.Text("message_id").ShouldBe(published.Text("message_id"));
        appended.Payload.GetRawText().ShouldBe(published.GetRawText());
    }

    [Test]
    public async Task WithBothTransportsChangesAreTakenFromTheChannelAndFromTheStream()
    {
        await using var app = StartService("Both");
        using var client = app.CreateClient();
        await using var upstream = await RedisPublisher.ConnectAsync(_redis.ConnectionString);
        await (await client.AddBatchAsync("from-channel", Sku, 10)).ShouldBeCreatedAsync();
        await (await client.AddBatchAsync("from-stream", Sku, 10)).ShouldBeCreatedAsync();
        await upstream.WaitUntilHeardAsync(app);
        await app.WaitUntilConsumingAsync(Eventually.Patience);

        await upstream.PublishAsync(app.InboundChannel, """{"batchref": "from-channel", "qty": 4}""");
        await _streams.AddAsync(app.InboundChannel, """{"batchref": "from-stream", "qty": 6}""");

        var product = await Eventually.Until(
            async () => await (await client.GetAsync(new Uri($"/products/{Sku}", UriKind.Relative))).JsonAsync(),
            product => product.GetProperty("batches").EnumerateArray().Sum(batch => batch.GetProperty("purchased").GetInt32()) == 10,
            "both changes to be applied");
        product.GetProperty("batches").EnumerateArray().Select(batch => (batch.Text("ref"), batch.GetProperty("purchased").GetInt32()))
            .ShouldBe([("from-channel", 4), ("from-stream", 6)], ignoreOrder: true);
    }

    [Test]
    public async Task TheOutboundStreamIsTrimmedToAboutItsMaximumLength()
    {
        await using var app = StartService("Streams", new Dictionary<string, string?> { ["Messaging:StreamMaxLength"] = "10" });
        using var client = app.CreateClient();
        await (await client.AddBatchAsync("batch-1", Sku, 1_000)).ShouldBeCreatedAsync();

        await AllocateAsync(client, 0, 300);

        await Eventually.Until(() => Task.FromResult(app.Database.Outbox("Allocated").All(row => row.Dispatched)), sent => sent, "every event to be sent");
        var length = (await _streams.RangeAsync(app.OutboundChannel)).Count;
        length.ShouldBeInRange(10, 299, "trimming is approximate: Redis drops whole nodes of about a hundred entries");
    }

    private AllocationApp StartService(string transport, Dictionary<string, string?>? settings = null)
    {
        settings ??= [];
        settings["Messaging:Transport"] = transport;
        return new AllocationApp(_redis.ConnectionString, settings);
    }

    private Task<IReadOnlyList<StreamMessage>> EntriesAsync(string stream, int count) =>
        Eventually.Until(() => _streams.RangeAsync(stream), entries => entries.Count >= count, $"{count} entries on {stream}");

    private static async Task AllocateAsync(HttpClient client, int first, int count)
    {
        for (var i = first; i < first + count; i++)
        {
            await (await client.AllocateAsync($"order-{i}", Sku, 1)).ShouldBeAllocatedAsync();
        }
    }
}
