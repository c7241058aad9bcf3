using System.Net;
using System.Text.Json;
using Allocation.E2ETests.Api;
using Allocation.E2ETests.Support;
using Allocation.Testing;

namespace Allocation.E2ETests.Operations;

/// <summary>
/// <c>/health/live</c> (the process answers) and <c>/health/ready</c> (the database takes writes, the inbound channel is subscribed over a live connection, Redis is
/// connected, the outbox is not backing up beyond <c>Outbox:MaxBacklog</c>).
/// </summary>
[Category("E2E")]
public class HealthTests
{
    [Test]
    public async Task LivenessIsHealthyWithoutRedis()
    {
        await using var app = new AllocationApp();
        using var client = app.CreateClient();

        var response = await client.GetAsync("/health/live");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/json");
        (await response.JsonAsync()).GetProperty("status").GetString().ShouldBe("Healthy");
    }

    [Test]
    public async Task ReadinessIsHealthyWhenSqliteRedisAndTheOutboxAre()
    {
        await using var redis = await RedisTestServer.StartAsync();
        await using var app = new AllocationApp(redis.ConnectionString);
        using var client = app.CreateClient();

        var report = await ReadinessAsync(client, HttpStatusCode.OK);

        report.GetProperty("status").GetString().ShouldBe("Healthy");
        Statuses(report).ShouldBe(["database Healthy", "inbound Healthy", "inbound_streams Healthy", "outbox Healthy", "redis Healthy"]);
        report.GetProperty("checks").GetProperty("outbox").GetProperty("data").GetProperty("pending").GetInt64().ShouldBe(0);
    }

    [Test]
    public async Task ReadinessFailsWhileRedisIsDownButLivenessHolds()
    {
        await using var redis = await RedisTestServer.StartAsync(stoppable: true);
        await using var app = new AllocationApp(redis.ConnectionString);
        using var client = app.CreateClient();
        await ReadinessAsync(client, HttpStatusCode.OK);

        await redis.StopAsync();

        var report = await ReadinessAsync(client, HttpStatusCode.ServiceUnavailable);
        report.GetProperty("status").GetString().ShouldBe("Unhealthy");
        Statuses(report).ShouldBe(["database Healthy", "inbound Unhealthy", "inbound_streams Healthy", "outbox Healthy", "redis Unhealthy"]);
        (await client.GetAsync("/health/live")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Test]
    public async Task ReadinessReturnsWhenRedisComesBack()
    {
        await using var redis = await RedisTestServer.StartAsync(stoppable: true);
        await using var app = new AllocationApp(redis.ConnectionString);
        using var client = app.CreateClient();
        await ReadinessAsync(client, HttpStatusCode.OK);
        await redis.StopAsync();
        await ReadinessAsync(client, HttpStatusCode.ServiceUnavailable);

        await redis.StartAgainAsync();

        var report = await ReadinessAsync(client, HttpStatusCode.OK);
        Statuses(report).ShouldBe(["database Healthy", "inbound Healthy", "inbound_streams Healthy", "outbox Healthy", "redis Healthy"]);
    }

    [Test]
    public async Task ABacklogAboveTheLimitMakesTheServiceNotReady()
    {
        await using var app = new AllocationApp(settings: new Dictionary<string, string?> { ["Outbox:MaxBacklog"] = "1" });
        using var client = app.CreateClient();
        await (await client.AddBatchAsync("batch-1", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        await (await client.AllocateAsync("order-1", "RED-CHAIR", 1)).ShouldBeAllocatedAsync();
        await (await client.AllocateAsync("order-2", "RED-CHAIR", 1)).ShouldBeAllocatedAsync();

        var response = await client.GetAsync("/health/ready");

        response.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/json");
        var outbox = (await response.JsonAsync()).GetProperty("checks").GetProperty("outbox");
        outbox.GetProperty("status").GetString().ShouldBe("Unhealthy");
        outbox.GetProperty("data").GetProperty("pending").GetInt64().ShouldBe(2);
    }

    [Test]
    public async Task ABacklogAtTheLimitIsStillHealthy()
    {
        await using var app = new AllocationApp(settings: new Dictionary<string, string?> { ["Outbox:MaxBacklog"] = "1" });
        using var client = app.CreateClient();
        await (await client.AddBatchAsync("batch-1", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        await (await client.AllocateAsync("order-1", "RED-CHAIR", 1)).ShouldBeAllocatedAsync();

        var response = await client.GetAsync("/health/ready");

        var outbox = (await response.JsonAsync()).GetProperty("checks").GetProperty("outbox");
        outbox.GetProperty("status").GetString().ShouldBe("Healthy");
        outbox.GetProperty("data").GetProperty("pending").GetInt64().ShouldBe(1);
    }

    // Readiness follows Redis's connection state, which changes in the background.
    private static async Task<JsonElement> ReadinessAsync(HttpClient client, HttpStatusCode status)
    {
        var (_, body) = await Eventually.Until(
            async () =>
            {
                using var response = await client.GetAsync("/health/ready");
                return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
            },
            probe => probe.StatusCode == status,
            $"/health/ready to answer {(int)status}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static string[] Statuses(JsonElement report) =>
        [.. report.GetProperty("checks").EnumerateObject().Select(check => $"{check.Name} {check.Value.GetProperty("status").GetString()}").Order()];
}
