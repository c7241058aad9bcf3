using System.Net;
using Allocation.E2ETests.Api;
using Allocation.E2ETests.Support;
using Allocation.Testing;
using Npgsql;

namespace Allocation.E2ETests.Operations;

/// <summary>Two instances of the service, as separate processes, on one PostgreSQL and one Redis.</summary>
[Category("E2E")]
public class PostgresInstancesTests
{
    private const string Sku = "RED-CHAIR";

    private PostgresTestServer _postgres = null!;
    private string _database = null!;
    private RedisTestServer _redis = null!;
    private string _outbound = null!;
    private ServiceProcess _a = null!;
    private ServiceProcess _b = null!;
    private HttpClient _clientA = null!;
    private HttpClient _clientB = null!;

    [SetUp]
    public async Task StartTwoInstances()
    {
        _postgres = await PostgresTestServer.SharedAsync();
        _database = await _postgres.CreateDatabaseAsync();
        _redis = await RedisTestServer.StartAsync();
        _outbound = $"line_allocated.{Guid.NewGuid():N}";
        _a = await ServiceProcess.StartAsync(Settings());
        _b = await ServiceProcess.StartAsync(Settings());
        _clientA = _a.CreateClient();
        _clientB = _b.CreateClient();
    }

    [TearDown]
    public async Task StopInstances()
    {
        _clientA?.Dispose();
        _clientB?.Dispose();
        if (_a is not null)
        {
            await _a.DisposeAsync();
        }

        if (_b is not null)
        {
            await _b.DisposeAsync();
        }

        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        if (_database is not null)
        {
            await _postgres.DropDatabaseAsync(_database);
        }
    }

    [Test]
    public async Task ALineAllocatedThroughOneInstanceIsSeenThroughTheOther()
    {
        await (await _clientA.AddBatchAsync("batch-1", Sku, 10)).ShouldBeCreatedAsync();

        (await (await _clientB.AllocateAsync("order-1", Sku, 3)).ShouldBeAllocatedAsync()).ShouldBe("batch-1");

        (await _clientA.BatchOfAsync("order-1", Sku)).ShouldBe("batch-1");
        var product = await (await _clientA.GetAsync($"/products/{Sku}")).JsonAsync();
        product.GetProperty("batches")[0].GetProperty("available").GetInt32().ShouldBe(7);
    }

    [Test]
    public async Task ConcurrentAllocationsThroughBothInstancesNeverOverAllocateAndNeverAnswer5xx()
    {
        await (await _clientA.AddBatchAsync("batch-1", Sku, 100)).ShouldBeCreatedAsync();
        using var slots = new SemaphoreSlim(32);

        var statuses = await Task.WhenAll(Enumerable.Range(0, 300).Select(async i =>
        {
            await slots.WaitAsync();
            try
            {
                using var response = await (i % 2 == 0 ? _clientA : _clientB).AllocateAsync($"order-{i}", Sku, 1);
                return response.StatusCode;
            }
            finally
            {
                slots.Release();
            }
        }));

        statuses.Count(status => status == HttpStatusCode.Created).ShouldBe(100);
        statuses.Count(status => status == HttpStatusCode.Conflict).ShouldBe(200);
        await using var connection = new NpgsqlConnection(_database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT (SELECT count(*) FROM allocations), (SELECT allocated_quantity FROM batches)", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        (reader.GetInt64(0), reader.GetInt32(1)).ShouldBe((100L, 100));
    }

    [Test]
    public async Task KillingTheInstanceThatSendsEventsLosesNoneAndTheOtherTakesOver()
    {
        await using var downstream = await RedisListener.SubscribeAsync(_redis.ConnectionString, _outbound);
        await (await _clientA.AddBatchAsync("batch-1", Sku, 1_000)).ShouldBeCreatedAsync();
        await AllocateAsync(0, 40);
        await downstream.WaitUntilAsync(messages => messages.Count >= 40, Eventually.Patience);
        var (leader, survivor, survivorClient) = _a.Lines().Any(IsLeading) ? (_a, _b, _clientB) : (_b, _a, _clientA);

        await leader.KillAsync();
        await AllocateAsync(40, 40, survivorClient);
        await survivor.WaitForOutputAsync(IsLeading, "the surviving instance to take the lead");
        var heard = await downstream.WaitUntilAsync(
            messages => messages.Select(message => message.Text("orderid")).Distinct().Count() >= 80, Eventually.Patience);

        heard.Select(message => message.Text("orderid")).Distinct().Count().ShouldBe(80);
        heard.GroupBy(message => message.Text("orderid")).ShouldAllBe(sends => sends.Select(message => message.Text("message_id")).Distinct().Count() == 1);
    }

    private static bool IsLeading(string line) => line.Contains("This instance leads", StringComparison.Ordinal);

    private async Task AllocateAsync(int first, int count, HttpClient? only = null)
    {
        for (var i = first; i < first + count; i++)
        {
            var client = only ?? (i % 2 == 0 ? _clientA : _clientB);
            await (await client.AllocateAsync($"order-{i}", Sku, 1)).ShouldBeAllocatedAsync();
        }
    }

    private Dictionary<string, string> Settings() => new(StringComparer.Ordinal)
    {
        ["Database:Provider"] = "Postgres",
        ["ConnectionStrings:Allocation"] = _database,
        ["ConnectionStrings:Redis"] = _redis.ConnectionString,
        ["Redis:Embedded"] = "false",
        ["Messaging:OutboundChannel"] = _outbound,
        ["Outbox:PollIntervalMs"] = "200",
    };
}
