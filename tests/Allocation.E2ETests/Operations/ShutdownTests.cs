using Allocation.E2ETests.Api;
using Allocation.E2ETests.Support;
using Allocation.Testing;

namespace Allocation.E2ETests.Operations;

/// <summary>
/// Graceful shutdown: events committed but not yet dispatched when the service stops get
/// <c>Outbox:ShutdownDrain</c> to go out; what cannot go out stays in the outbox for the next start.
/// </summary>
[Category("E2E")]
public class ShutdownTests
{
    private const string Pending = "SELECT count(*) FROM outbox WHERE dispatched_at IS NULL";

    [Test]
    public async Task PendingEventsGoOutWhileTheServiceStops()
    {
        using var database = new TestDatabase();
        var store = new Store(database.FilePath);
        await using var redis = await RedisTestServer.StartAsync();

        // The dispatcher wakes on its own commits and otherwise polls; with polling this slow, events
        // committed by another instance on the same database wait until something else dispatches them.
        await using var service = new AllocationApp(redis.ConnectionString, new Dictionary<string, string?> { ["Outbox:PollIntervalMs"] = "600000" }, database);
        using var client = service.CreateClient();
        await using var downstream = await RedisListener.SubscribeAsync(redis.ConnectionString, service.OutboundChannel);
        await (await client.AddBatchAsync("batch-1", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        await (await client.AllocateAsync("order-0", "RED-CHAIR", 1)).ShouldBeAllocatedAsync();
        await downstream.WaitUntilAsync(messages => messages.Count == 1, Eventually.Patience);
        await AllocateOnAnotherInstanceWithoutRedisAsync(database, "order-1", "order-2");
        (await store.CountAsync(Pending)).ShouldBe(2);

        await service.DisposeAsync();

        (await store.CountAsync(Pending)).ShouldBe(0);
        var published = await downstream.WaitUntilAsync(messages => messages.Count >= 3, Eventually.Patience);
        published.Select(message => message.GetProperty("orderid").GetString()).ShouldBe(["order-0", "order-1", "order-2"]);
    }

    [Test]
    public async Task EventsThatCannotGoOutStayInTheOutboxForTheNextStart()
    {
        using var database = new TestDatabase();
        var store = new Store(database.FilePath);
        await using var service = new AllocationApp(database: database);
        using var client = service.CreateClient();
        await (await client.AddBatchAsync("batch-1", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        await (await client.AllocateAsync("order-1", "RED-CHAIR", 1)).ShouldBeAllocatedAsync();
        await (await client.AllocateAsync("order-2", "RED-CHAIR", 1)).ShouldBeAllocatedAsync();

        await service.DisposeAsync();

        (await store.CountAsync(Pending)).ShouldBe(2);
        (await store.CountAsync("SELECT count(*) FROM dead_letters")).ShouldBe(0);
    }

    private static async Task AllocateOnAnotherInstanceWithoutRedisAsync(TestDatabase database, params string[] orders)
    {
        await using var other = new AllocationApp(database: database);
        using var client = other.CreateClient();
        foreach (var order in orders)
        {
            await (await client.AllocateAsync(order, "RED-CHAIR", 1)).ShouldBeAllocatedAsync();
        }

        await other.DisposeAsync();

        // Failed attempts are retried later; the stopping service's drain respects that schedule.
        var store = new Store(database.FilePath);
        await Eventually.Until(
            () => store.CountAsync(
                "SELECT count(*) FROM outbox WHERE dispatched_at IS NULL AND next_attempt_at > @now",
                ("@now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())),
            count => count == 0,
            "no pending event to wait for a retry");
    }
}
