using System.Net;
using Allocation.E2ETests.Api;
using Allocation.E2ETests.Support;
using Allocation.Testing;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Allocation.E2ETests.Messaging;

/// <summary>What downstream systems hear over a real Redis, and in which order.</summary>
[Category("E2E")]
public class OutboundOrderTests
{
    private static readonly string[] Skus = ["RED-CHAIR", "BLUE-VASE", "TALL-LAMP", "SMALL-TABLE"];

    private RedisTestServer _redis = null!;
    private AllocationApp _app = null!;
    private HttpClient _client = null!;

    [SetUp]
    public async Task StartServiceOnRedis()
    {
        _redis = await RedisTestServer.StartAsync();
        _app = new AllocationApp(redis: _redis.ConnectionString);
        _client = _app.CreateClient();
    }

    [TearDown]
    public async Task StopService()
    {
        try
        {
            _client.Dispose();
            await _app.DisposeAsync();
        }
        finally
        {
            await _redis.DisposeAsync();
        }
    }

    [Test]
    public async Task ConcurrentAllocationsReachASubscriberInTheOrderTheirChangesCommitted()
    {
        await using var downstream = await RedisListener.SubscribeAsync(_redis.ConnectionString, _app.OutboundChannel);
        foreach (var sku in Skus)
        {
            await (await _client.AddBatchAsync($"batch-{sku}", sku, 1_000)).ShouldBeCreatedAsync();
        }

        var orders = Enumerable.Range(0, 400).Select(i => (OrderId: $"order-{i}", Sku: Skus[i % Skus.Length])).ToList();
        using var clients = new SemaphoreSlim(32);
        await Task.WhenAll(orders.Select(async order =>
        {
            await clients.WaitAsync();
            try
            {
                (await _client.AllocateAsync(order.OrderId, order.Sku, 1)).StatusCode.ShouldBe(HttpStatusCode.Created);
            }
            finally
            {
                clients.Release();
            }
        }));
        var heard = await downstream.WaitUntilAsync(messages => messages.Count >= orders.Count, Eventually.Patience);

        var commitOrder = CommitOrderOfAllocated();
        var heardIds = heard.Select(message => message.Text("message_id")).ToList();
        heardIds.ShouldBe(commitOrder.Select(row => row.MessageId));
        foreach (var sku in Skus)
        {
            heard.Where(message => message.Text("sku") == sku).Select(message => message.Text("message_id"))
                .ShouldBe(commitOrder.Where(row => row.Sku == sku).Select(row => row.MessageId));
        }
    }

    [Test]
    public async Task ACancelledLineIsAnnouncedOnLineDeallocatedAfterItsAllocation()
    {
        await using var allocated = await RedisListener.SubscribeAsync(_redis.ConnectionString, _app.OutboundChannel);
        await using var deallocated = await RedisListener.SubscribeAsync(_redis.ConnectionString, _app.DeallocatedChannel);
        await (await _client.AddBatchAsync("batch-1", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        await (await _client.AllocateAsync("order-1", "RED-CHAIR", 3)).ShouldBeAllocatedAsync();

        (await _client.DeallocateAsync("order-1", "RED-CHAIR")).StatusCode.ShouldBe(HttpStatusCode.OK);

        var message = await deallocated.WaitForAsync(_ => true, Eventually.Patience);
        message.EnumerateObject().Select(field => field.Name).ShouldBe(["orderid", "sku", "qty", "batchref", "message_id"], ignoreOrder: true);
        (message.Text("orderid"), message.Text("sku"), message.GetProperty("qty").GetInt32(), message.Text("batchref"))
            .ShouldBe(("order-1", "RED-CHAIR", 3, "batch-1"));
        var ids = _app.Database.Outbox("LineCancelled").Select(row => row.MessageId).ToList();
        ids.ShouldBe([message.Text("message_id")!]);
        allocated.Messages.Count.ShouldBe(1);
    }

    private List<(string MessageId, string Sku)> CommitOrderOfAllocated()
    {
        using var connection = new SqliteConnection($"Data Source={_app.Database.FilePath};Pooling=False");
        connection.Open();
        return connection.Query<(string, string)>("SELECT message_id, json_extract(payload, '$.sku') FROM outbox WHERE type = 'Allocated' ORDER BY id").AsList();
    }
}
