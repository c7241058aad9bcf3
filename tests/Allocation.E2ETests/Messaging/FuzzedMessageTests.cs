using System.Net;
using Allocation.E2ETests.Api;
using Allocation.E2ETests.Support;
using Allocation.Testing;
using Allocation.Testing.Properties;
using CsCheck;

namespace Allocation.E2ETests.Messaging;

/// <summary>
/// Generated malformed and boundary <c>change_batch_quantity</c> payloads (see <see cref="FuzzedJson"/>), each one the
/// contract refuses, sent through a real Redis on each transport. Every one becomes a dead letter holding its bytes,
/// changes nothing, and the consumer goes on: a valid message sent after each batch of them is applied.
/// </summary>
[TestFixture("PubSub")]
[TestFixture("Streams")]
[Category("E2E")]
public class FuzzedMessageTests(string transport)
{
    private const int Cases = 12;
    private const string Sku = "RED-CHAIR";
    private const string Earlier = "batch-earlier";
    private const string Later = "batch-later";

    private static readonly Gen<FuzzedBody[]> Batches = FuzzedJson.RefusedBodies(
            repeatedFieldRefused: false,
            new FuzzedField("batchref", FieldKind.Identifier, $"\"{Earlier}\"", AnyOtherValueRefused: true),
            new FuzzedField("qty", FieldKind.Quantity, "5"))
        .Array[1, 6];

    private RedisTestServer _redis = null!;
    private RedisPublisher _publisher = null!;
    private RedisStreams? _streams;
    private AllocationApp _app = null!;
    private HttpClient _client = null!;
    private Store _store = null!;
    private int _sentinel = 20;

    private bool Streams => transport == "Streams";

    [SetUp]
    public async Task StartServiceOnRedis()
    {
        _redis = await RedisTestServer.StartAsync();
        _publisher = await RedisPublisher.ConnectAsync(_redis.ConnectionString);
        _streams = Streams ? await RedisStreams.ConnectAsync(_redis) : null;
        _app = new AllocationApp(_redis.ConnectionString, new Dictionary<string, string?> { ["Messaging:Transport"] = transport });
        _client = _app.CreateClient();
        _store = new Store(_app.Database.FilePath);
        await _client.PlaceOrderInEarlierOfTwoBatchesAsync("order-1", Sku, Earlier, Later);
        if (Streams)
        {
            await _app.WaitUntilConsumingAsync(Eventually.Patience);
        }
        else
        {
            await _publisher.WaitUntilHeardAsync(_app);
        }
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

            if (_publisher is not null)
            {
                await _publisher.DisposeAsync();
            }
        }
        finally
        {
            await _redis.DisposeAsync();
        }
    }

    [Test]
    public Task RefusedPayloadsAreDeadLetteredWithoutAChangeAndTheConsumerGoesOn() =>
        Batches.CheckAsync(RefusedAsync, Cases, Print, TestContext.Out.WriteLine, threads: 1);

    private async Task RefusedAsync(FuzzedBody[] payloads)
    {
        var before = await _store.SnapshotAsync();
        var deadLetters = _app.Database.DeadLetters().Count;

        foreach (var payload in payloads)
        {
            await SendAsync(payload.Bytes);
        }

        var stored = await Eventually.Until(
            () => Task.FromResult(_app.Database.DeadLetters()),
            all => all.Count >= deadLetters + payloads.Length,
            $"{payloads.Length} dead letters",
            TimeSpan.FromSeconds(15));
        stored.Count.ShouldBe(deadLetters + payloads.Length);
        (await _store.SnapshotAsync()).ShouldBe(before);
        var added = stored.Skip(deadLetters).ToList();
        added.ShouldAllBe(letter => letter.Source == $"{(Streams ? "redis-stream" : "redis")}:{_app.InboundChannel}" && letter.Error != "");
        for (var i = 0; i < payloads.Length; i++)
        {
            var kept = added[i].Bytes;
            (added[i].Truncated ? payloads[i].Bytes.Take(kept.Length) : payloads[i].Bytes).ShouldBe(kept, $"dead letter {i} holds another payload");
        }

        var qty = ++_sentinel;
        await SendAsync(System.Text.Encoding.UTF8.GetBytes($$"""{"batchref": "{{Later}}", "qty": {{qty}}}"""));
        await Eventually.Until(() => PurchasedAsync(Later), purchased => purchased == qty, $"{Later} to be changed to {qty} after the refused payloads", TimeSpan.FromSeconds(15));
        if (_streams is not null)
        {
            await Eventually.Until(() => _streams.PendingAsync(_app.InboundChannel, "allocation"), pending => pending == 0, "every entry to be acknowledged", TimeSpan.FromSeconds(15));
        }
    }

    private async Task SendAsync(byte[] payload)
    {
        if (_streams is not null)
        {
            await _streams.AddAsync(_app.InboundChannel, payload);
        }
        else
        {
            await _publisher.PublishAsync(_app.InboundChannel, payload);
        }
    }

    private async Task<int> PurchasedAsync(string batch)
    {
        using var response = await _client.GetAsync(new Uri($"/batches/{batch}", UriKind.Relative));
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (await response.JsonAsync()).GetProperty("purchased").GetInt32();
    }

    private static string Print(FuzzedBody[] payloads) =>
        Environment.NewLine + string.Join(Environment.NewLine, payloads.Select((payload, index) => $"  {index + 1}. {payload}"));
}
