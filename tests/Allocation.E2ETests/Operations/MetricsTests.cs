using System.Net;
using Allocation.E2ETests.Api;
using Allocation.E2ETests.Support;
using Allocation.Testing;

namespace Allocation.E2ETests.Operations;

/// <summary>
/// <c>/metrics</c> in Prometheus text format: the service's own counters and outbox gauges, and ASP.NET
/// Core's HTTP server metrics. Each test has the only service alive, since the meter is found by name.
/// </summary>
[Category("E2E")]
public class MetricsTests
{
    private const string Allocations = "allocation_allocations_total";

    [Test]
    public async Task MetricsAreServedAsPrometheusText()
    {
        await using var app = new AllocationApp();
        using var client = app.CreateClient();

        var response = await client.GetAsync("/metrics");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("text/plain");
        var text = await response.Content.ReadAsStringAsync();
        text.ShouldContain("# TYPE allocation_outbox_pending gauge");
        text.ShouldContain("# TYPE allocation_outbox_oldest_age_seconds gauge");
    }

    [Test]
    public async Task EveryAllocationIsCountedOnce()
    {
        await using var app = new AllocationApp();
        using var client = app.CreateClient();
        await (await client.AddBatchAsync("batch-1", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        var before = await ScrapeAsync(client, Allocations);

        await (await client.AllocateAsync("order-1", "RED-CHAIR", 1)).ShouldBeAllocatedAsync();
        await (await client.AllocateAsync("order-2", "RED-CHAIR", 1)).ShouldBeAllocatedAsync();
        await (await client.AllocateAsync("order-3", "RED-CHAIR", 1)).ShouldBeAllocatedAsync();
        await (await client.AllocateAsync("order-3", "RED-CHAIR", 1)).ShouldBeAllocatedAsync();

        var after = await SampleAsync(client, Allocations, value => value >= before + 3);
        after.ShouldBe(before + 3);
    }

    [Test]
    public async Task EachServiceCountsFromZero()
    {
        await using (var first = new AllocationApp())
        {
            using var client = first.CreateClient();
            await (await client.AddBatchAsync("batch-1", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
            await (await client.AllocateAsync("order-1", "RED-CHAIR", 1)).ShouldBeAllocatedAsync();
            await SampleAsync(client, Allocations, value => value >= 1);
        }

        await using var second = new AllocationApp();
        using var secondClient = second.CreateClient();

        (await ScrapeAsync(secondClient, Allocations)).ShouldBe(0);
    }

    [Test]
    public async Task AnOutOfStockLineIsCounted()
    {
        await using var app = new AllocationApp();
        using var client = app.CreateClient();
        await (await client.AddBatchAsync("batch-1", "RED-CHAIR", 1)).ShouldBeCreatedAsync();

        await (await client.AllocateAsync("order-1", "RED-CHAIR", 2)).ShouldBeProblemAsync(HttpStatusCode.Conflict);

        (await SampleAsync(client, "allocation_out_of_stock_total", value => value >= 1)).ShouldBe(1);
        (await ScrapeAsync(client, Allocations)).ShouldBe(0);
    }

    [Test]
    public async Task TheOutOfStockEmailIsCountedByOutcome()
    {
        await using var app = new AllocationApp();
        using var client = app.CreateClient();
        await (await client.AddBatchAsync("batch-1", "RED-CHAIR", 1)).ShouldBeCreatedAsync();

        await (await client.AllocateAsync("order-1", "RED-CHAIR", 2)).ShouldBeProblemAsync(HttpStatusCode.Conflict);

        (await SampleAsync(client, "allocation_emails_total", value => value >= 1, ("outcome", "logged"))).ShouldBe(1);
    }

    [Test]
    public async Task ThePendingGaugeShowsEventsWaitingForRedis()
    {
        await using var app = new AllocationApp();
        using var client = app.CreateClient();
        await (await client.AddBatchAsync("batch-1", "RED-CHAIR", 10)).ShouldBeCreatedAsync();

        await (await client.AllocateAsync("order-1", "RED-CHAIR", 1)).ShouldBeAllocatedAsync();
        await (await client.AllocateAsync("order-2", "RED-CHAIR", 1)).ShouldBeAllocatedAsync();
        await (await client.AllocateAsync("order-3", "RED-CHAIR", 1)).ShouldBeAllocatedAsync();

        (await SampleAsync(client, "allocation_outbox_pending", value => value >= 3)).ShouldBe(3);
        (await SampleAsync(client, "allocation_outbox_oldest_age_seconds", value => value > 0)).ShouldBeGreaterThan(0);
    }

    [Test]
    public async Task ThePendingGaugeEmptiesOnceRedisTakesTheEvents()
    {
        await using var redis = await RedisTestServer.StartAsync();
        await using var app = new AllocationApp(redis.ConnectionString);
        using var client = app.CreateClient();
        await (await client.AddBatchAsync("batch-1", "RED-CHAIR", 10)).ShouldBeCreatedAsync();

        await (await client.AllocateAsync("order-1", "RED-CHAIR", 1)).ShouldBeAllocatedAsync();

        (await SampleAsync(client, Allocations, value => value >= 1)).ShouldBe(1);
        (await SampleAsync(client, "allocation_outbox_pending", value => value == 0)).ShouldBe(0);
    }

    [Test]
    public async Task APoisonMessageIsCountedAsDeadLettered()
    {
        await using var redis = await RedisTestServer.StartAsync();
        await using var app = new AllocationApp(redis.ConnectionString);
        using var client = app.CreateClient();
        await using var upstream = await RedisPublisher.ConnectAsync(redis.ConnectionString);
        await upstream.WaitUntilHeardAsync(app);

        await upstream.PublishAsync(app.InboundChannel, "not json");

        (await SampleAsync(client, "allocation_inbound_messages_total", value => value >= 1, ("outcome", "dead_lettered"), ("channel", app.InboundChannel))).ShouldBe(1);
    }

    [Test]
    public async Task AnAppliedMessageIsCountedAsApplied()
    {
        await using var redis = await RedisTestServer.StartAsync();
        await using var app = new AllocationApp(redis.ConnectionString);
        using var client = app.CreateClient();
        await using var upstream = await RedisPublisher.ConnectAsync(redis.ConnectionString);
        await upstream.WaitUntilHeardAsync(app);
        await (await client.AddBatchAsync("in-stock", "RED-CHAIR", 10)).ShouldBeCreatedAsync();

        await upstream.PublishAsync(app.InboundChannel, """{"batchref":"in-stock","qty":5}""");

        await Eventually.Until(() => client.GetStringAsync("/batches/in-stock"), batch => batch.Contains("\"purchased\":5"), "the change to be applied");
        await SampleAsync(client, "allocation_inbound_messages_total", value => value >= 1, ("outcome", "applied"), ("channel", app.InboundChannel));
        (await ScrapeAsync(client, "allocation_inbound_messages_total", ("outcome", "dead_lettered"))).ShouldBe(0);
    }

    [Test]
    public async Task AShrinkingBatchCountsItsReallocatedLine()
    {
        await using var redis = await RedisTestServer.StartAsync();
        await using var app = new AllocationApp(redis.ConnectionString);
        using var client = app.CreateClient();
        await using var upstream = await RedisPublisher.ConnectAsync(redis.ConnectionString);
        await upstream.WaitUntilHeardAsync(app);
        await (await client.AddBatchAsync("in-stock", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        await (await client.AddBatchAsync("shipment", "RED-CHAIR", 10, "2011-01-02")).ShouldBeCreatedAsync();
        await (await client.AllocateAsync("order-1", "RED-CHAIR", 4)).ShouldBeAllocatedAsync();
        await (await client.AllocateAsync("order-2", "RED-CHAIR", 4)).ShouldBeAllocatedAsync();

        await upstream.PublishAsync(app.InboundChannel, """{"batchref":"in-stock","qty":5}""");

        (await SampleAsync(client, "allocation_reallocations_total", value => value >= 1)).ShouldBe(1);
        (await SampleAsync(client, Allocations, value => value >= 3)).ShouldBe(3);
    }

    [Test]
    public async Task HttpRequestsAreMeasuredByRoute()
    {
        await using var app = new AllocationApp();
        using var client = app.CreateClient();
        await (await client.AddBatchAsync("batch-1", "RED-CHAIR", 10)).ShouldBeCreatedAsync();

        await (await client.AllocateAsync("order-1", "RED-CHAIR", 1)).ShouldBeAllocatedAsync();
        await (await client.AllocateAsync("order-2", "RED-CHAIR", 100)).ShouldBeProblemAsync(HttpStatusCode.Conflict);

        const string duration = "http_server_request_duration_seconds_count";
        (await SampleAsync(client, duration, value => value >= 1, ("http_route", "/allocate"), ("http_response_status_code", "201"))).ShouldBe(1);
        (await SampleAsync(client, duration, value => value >= 1, ("http_route", "/allocate"), ("http_response_status_code", "409"))).ShouldBe(1);
    }

    // Counters move when a change commits and the exporter may serve a scrape from a short cache, so the
    // expected value is waited for; the test then checks it did not overshoot.
    private static async Task<double> SampleAsync(HttpClient client, string name, Func<double, bool> reached, params (string Name, string Value)[] labels) =>
        await Eventually.Until(() => ScrapeAsync(client, name, labels), reached, $"{name} to reach the expected value");

    private static async Task<double> ScrapeAsync(HttpClient client, string name, params (string Name, string Value)[] labels) =>
        PrometheusText.Sample(await client.GetStringAsync("/metrics"), name, labels);
}
