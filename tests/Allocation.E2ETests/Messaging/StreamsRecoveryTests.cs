using Allocation.E2ETests.Api;
using Allocation.E2ETests.Operations;
using Allocation.E2ETests.Support;
using Allocation.Testing;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Allocation.E2ETests.Messaging;

/// <summary>
/// The inbound stream consumed by the service as processes of its own: killed while entries arrive, two of them
/// in one consumer group, and on a database that goes away.
/// </summary>
[Category("E2E")]
public class StreamsRecoveryTests
{
    private const string Sku = "RED-CHAIR";
    private const string Group = "allocation";
    private static readonly string[] Batches = ["batch-0", "batch-1", "batch-2", "batch-3"];

    private RedisTestServer _redis = null!;
    private RedisStreams _streams = null!;
    private string _stream = null!;

    [SetUp]
    public async Task StartRedis()
    {
        _redis = await RedisTestServer.StartAsync();
        _streams = await RedisStreams.ConnectAsync(_redis);
        _stream = $"change_batch_quantity.{Guid.NewGuid():N}";
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
    public async Task EntriesArrivingWhileTheServiceIsKilledAndRestartedAreAllAppliedAsSent()
    {
        using var database = new TestDatabase();
        var settings = Settings(new Dictionary<string, string>
        {
            ["ConnectionStrings:Allocation"] = database.ConnectionString,
            ["Messaging:ClaimIdleTime"] = "00:00:01",
        });
        var service = await ServiceProcess.StartAsync(settings);
        try
        {
            await AddBatchesAsync(service);
            await _streams.WaitForGroupAsync(_stream, Group);
            var halfway = new TaskCompletionSource();
            var resume = new TaskCompletionSource();

            var sending = SendChangesAsync(200, pauseAfter: 100, halfway, resume.Task);
            await halfway.Task;
            using (HoldWrites(database))
            {
                // The service is stuck on its commit, so what it reads now is pending on it when it dies.
                resume.SetResult();
                await Eventually.Until(() => _streams.PendingAsync(_stream, Group), pending => pending > 0, "entries pending on the service");
                await service.KillAsync();
            }

            await service.DisposeAsync();
            service = await ServiceProcess.StartAsync(settings);
            var sent = await sending;

            using var client = service.CreateClient();
            foreach (var (batch, qty) in sent)
            {
                await Eventually.Until(() => PurchasedAsync(client, batch), purchased => purchased == qty, $"{batch} to end at the last quantity sent, {qty}");
            }

            await Eventually.Until(() => _streams.PendingAsync(_stream, Group), pending => pending == 0, "every entry to be acknowledged", TimeSpan.FromSeconds(60));
            database.DeadLetters().ShouldBeEmpty();
        }
        finally
        {
            await service.DisposeAsync();
        }
    }

    [Test]
    public async Task TwoInstancesInOneGroupApplyEveryEntryOnce()
    {
        var postgres = await PostgresTestServer.SharedAsync();
        var database = await postgres.CreateDatabaseAsync();
        var settings = Settings(new Dictionary<string, string>
        {
            ["Database:Provider"] = "Postgres",
            ["ConnectionStrings:Allocation"] = database,
        });
        try
        {
            await using var first = await ServiceProcess.StartAsync(settings);
            await using var second = await ServiceProcess.StartAsync(settings);
            using var firstClient = first.CreateClient();
            using var secondClient = second.CreateClient();
            await AddBatchesAsync(first);
            await first.WaitForOutputAsync(IsConsuming, "the first instance to consume the stream");
            await second.WaitForOutputAsync(IsConsuming, "the second instance to consume the stream");

            var sent = await SendChangesAsync(200);

            foreach (var (batch, qty) in sent)
            {
                await Eventually.Until(() => PurchasedAsync(secondClient, batch), purchased => purchased == qty, $"{batch} to end at the last quantity sent, {qty}");
            }

            await Eventually.Until(() => _streams.PendingAsync(_stream, Group), pending => pending == 0, "every entry to be acknowledged");
            var applied = await AppliedAsync(firstClient) + await AppliedAsync(secondClient);
            applied.ShouldBe(200);
            (await CountAsync(database, "SELECT count(*) FROM dead_letters")).ShouldBe(0);
        }
        finally
        {
            await postgres.DropDatabaseAsync(database);
        }
    }

    [Test]
    public async Task AnEntryThatArrivesWhileTheDatabaseIsDownStaysPendingAndIsAppliedOnceItIsBack()
    {
        await using var postgres = await PostgresTestServer.StartOwnAsync();
        var database = await postgres.CreateDatabaseAsync();
        await using var service = await ServiceProcess.StartAsync(Settings(new Dictionary<string, string>
        {
            ["Database:Provider"] = "Postgres",
            ["ConnectionStrings:Allocation"] = database,
        }));
        using var client = service.CreateClient();
        await client.PlaceOrderInEarlierOfTwoBatchesAsync("order-1", Sku, "batch-earlier", "batch-later");
        await service.WaitForOutputAsync(IsConsuming, "the service to consume the stream");

        await postgres.StopAsync();
        await _streams.AddAsync(_stream, """{"batchref": "batch-earlier", "qty": 5}""");
        await service.WaitForOutputAsync(line => line.Contains("is not being consumed", StringComparison.Ordinal), "the failure to be logged");
        var pendingWhileDown = await _streams.PendingAsync(_stream, Group);
        await postgres.StartAgainAsync();

        await client.AllocatedTo("order-1", Sku, "batch-later");
        pendingWhileDown.ShouldBe(1);
        await Eventually.Until(() => _streams.PendingAsync(_stream, Group), pending => pending == 0, "the entry to be acknowledged");
        (await CountAsync(database, "SELECT count(*) FROM dead_letters")).ShouldBe(0);
        await service.WaitForOutputAsync(line => line.Contains("is consumed again", StringComparison.Ordinal), "the recovery to be logged");
        service.Lines().Count(line => line.Contains("is not being consumed", StringComparison.Ordinal)).ShouldBe(1, service.Output);
    }

    private Dictionary<string, string> Settings(Dictionary<string, string> database)
    {
        var settings = new Dictionary<string, string>(database, StringComparer.Ordinal)
        {
            ["ConnectionStrings:Redis"] = _redis.ConnectionString,
            ["Redis:Embedded"] = "false",
            ["Messaging:Transport"] = "Streams",
            ["Messaging:InboundChannel"] = _stream,
            ["Messaging:OutboundChannel"] = $"line_allocated.{Guid.NewGuid():N}",
            ["Outbox:PollIntervalMs"] = "200",
        };
        return settings;
    }

    private static async Task AddBatchesAsync(ServiceProcess service)
    {
        using var client = service.CreateClient();
        foreach (var batch in Batches)
        {
            await (await client.AddBatchAsync(batch, Sku, 1_000)).ShouldBeCreatedAsync();
        }
    }

    /// <summary>
    /// Appends <paramref name="count"/> changes at about a hundred a second, the batches in turn, each with a
    /// quantity of its own; returns the last quantity sent for each batch.
    /// </summary>
    private async Task<Dictionary<string, int>> SendChangesAsync(int count, int? pauseAfter = null, TaskCompletionSource? paused = null, Task? resume = null)
    {
        var last = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            if (i == pauseAfter)
            {
                paused!.SetResult();
                await resume!;
            }

            var batch = Batches[i % Batches.Length];
            var qty = (i * 37 % 500) + 1;
            await _streams.AddAsync(_stream, $$"""{"batchref": "{{batch}}", "qty": {{qty}}}""");
            last[batch] = qty;
            await Task.Delay(10);
        }

        return last;
    }

    private static bool IsConsuming(string line) => line.Contains("Consuming stream", StringComparison.Ordinal);

    private static async Task<int> PurchasedAsync(HttpClient client, string batch) =>
        (await (await client.GetAsync(new Uri($"/batches/{batch}", UriKind.Relative))).JsonAsync()).GetProperty("purchased").GetInt32();

    private async Task<double> AppliedAsync(HttpClient client) =>
        PrometheusText.Sample(
            await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)),
            "allocation_inbound_messages_total",
            ("channel", _stream),
            ("transport", "streams"),
            ("outcome", "applied"));

    private static async Task<long> CountAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    // A write transaction of the test's own: the service's commits wait behind it.
    private static SqliteConnection HoldWrites(TestDatabase database)
    {
        var connection = new SqliteConnection($"Data Source={database.FilePath};Pooling=False");
        connection.Open();
        using var begin = connection.CreateCommand();
        begin.CommandText = "BEGIN IMMEDIATE";
        begin.ExecuteNonQuery();
        return connection;
    }
}
