using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using StackExchange.Redis;

namespace Allocation.Benchmarks;

/// <summary>
/// Pub/sub and streams side by side, in one run, on two services on one Redis, each using one transport
/// (<c>Messaging:Transport=PubSub</c> and <c>Streams</c>) with a SQLite file of its own:
/// <list type="bullet">
/// <item>round trip, one event at a time, the two transports taking turns: a change that empties the batch
/// holding an order (PUBLISH, or XADD to the inbound stream) until the <c>line_allocated</c> of its
/// reallocation arrives the same way (SUBSCRIBE, or XREAD on the outbound stream);</item>
/// <item>across a restart: changes sent at a steady rate through both, each to a batch of its own, while
/// both services are killed (SIGKILL) and started again; afterwards, how many batches do not hold the quantity sent.</item>
/// </list>
/// </summary>
internal sealed record TransportComparison(Stats PubSub, Stats Streams, RestartLoss Restart)
{
    private const string Inbound = "change_batch_quantity";
    private const string Outbound = "line_allocated";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>A service's settings for this scenario; a dead consumer's entries are claimed after 2 s instead of 30.</summary>
    public static IReadOnlyDictionary<string, string> Settings(string transport) => new Dictionary<string, string>
    {
        ["Messaging__Transport"] = transport,
        ["Messaging__ClaimIdleTime"] = "00:00:02",
    };

    public static async Task<TransportComparison> MeasureAsync(
        ServiceProcess pubSubService, ServiceProcess streamsService, string redisConnection, int count, int restartChanges, string stamp)
    {
        using var pubSubHttp = new HttpClient { BaseAddress = pubSubService.BaseAddress };
        using var streamsHttp = new HttpClient { BaseAddress = streamsService.BaseAddress };
        HttpClient HttpOf(bool stream) => stream ? streamsHttp : pubSubHttp;
        await using var redis = await ConnectionMultiplexer.ConnectAsync(redisConnection);
        await using var streamReader = await OutboundStream.StartAsync(redisConnection);
        var arrivals = new ConcurrentDictionary<(string Order, bool Stream), TaskCompletionSource<long>>();
        void Arrived(string json, bool stream)
        {
            var orderId = JsonDocument.Parse(json).RootElement.GetProperty("orderid").GetString()!;
            if (arrivals.TryGetValue((orderId, stream), out var arrival))
            {
                arrival.TrySetResult(Stopwatch.GetTimestamp());
            }
        }

        var queue = await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(Outbound));
        queue.OnMessage(message => Arrived((string)message.Message!, stream: false));
        streamReader.OnEntry = json => Arrived(json, stream: true);

        var samples = (PubSub: new List<double>(count), Streams: new List<double>(count));
        var lost = (PubSub: 0, Streams: 0);
        // The first round trips, on top of the warming load, are not counted: they warm this very path.
        const int warmUp = 100;
        for (var i = 0; i < warmUp + (2 * count); i++)
        {
            var stream = i % 2 == 1;
            var counted = i >= warmUp;
            var http = HttpOf(stream);
            var sku = $"TR-{i}-{stamp}";
            var first = $"tr-a-{i}-{stamp}";
            var order = $"tr-o-{i}-{stamp}";
            await Setup.AddBatchAsync(http, first, sku, 1);
            await Setup.AddBatchAsync(http, $"tr-b-{i}-{stamp}", sku, 10, "2099-01-01");
            var allocated = arrivals[(order, stream)] = NewArrival();
            (await http.PostAsJsonAsync("/allocate", new { orderid = order, sku, qty = 1 })).EnsureSuccessStatusCode();
            await Within(allocated.Task);

            var reallocated = arrivals[(order, stream)] = NewArrival();
            var sent = Stopwatch.GetTimestamp();
            await SendChangeAsync(redis, stream, first, 0);
            var arrived = await Within(reallocated.Task);
            if (counted && arrived is { } at)
            {
                (stream ? samples.Streams : samples.PubSub).Add(Stopwatch.GetElapsedTime(sent, at).TotalMilliseconds);
            }
            else if (counted && stream)
            {
                lost.Streams++;
            }
            else if (counted)
            {
                lost.PubSub++;
            }

            arrivals.TryRemove((order, stream), out _);
        }

        await queue.UnsubscribeAsync();
        var restart = await AcrossRestartAsync([pubSubService, streamsService], HttpOf, redis, restartChanges, stamp);
        return new TransportComparison(Stats.Of(samples.PubSub, lost.PubSub), Stats.Of(samples.Streams, lost.Streams), restart);
    }

    /// <summary>
    /// <paramref name="changes"/> changes through each transport at 100 per second in all, alternating,
    /// each to its own batch (10 → 5); halfway through, SIGKILL and restart of both services. Then, once
    /// every stream entry could have been applied or claimed, the batches still at 10 are the changes lost.
    /// </summary>
    private static async Task<RestartLoss> AcrossRestartAsync(
        ServiceProcess[] services, Func<bool, HttpClient> httpOf, ConnectionMultiplexer redis, int changes, string stamp)
    {
        string Batch(bool stream, int i) => $"rs-{(stream ? "s" : "p")}-{i}-{stamp}";
        for (var i = 0; i < changes; i++)
        {
            await Setup.AddBatchAsync(httpOf(false), Batch(false, i), $"RS-P-{i}-{stamp}", 10);
            await Setup.AddBatchAsync(httpOf(true), Batch(true, i), $"RS-S-{i}-{stamp}", 10);
        }

        var clock = Stopwatch.StartNew();
        Task? restart = null;
        for (var n = 0; n < 2 * changes; n++)
        {
            if (n == changes)
            {
                restart = Task.WhenAll(services.Select(service => service.RestartAsync()));
            }

            await SendChangeAsync(redis, stream: n % 2 == 1, Batch(n % 2 == 1, n / 2), 5);
            var due = TimeSpan.FromMilliseconds(10 * (n + 1));
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed);
            }
        }

        await restart!;
        async Task<int> UnchangedAsync(bool stream)
        {
            var unchanged = 0;
            for (var i = 0; i < changes; i++)
            {
                var batch = await httpOf(stream).GetFromJsonAsync<JsonObject>($"/batches/{Batch(stream, i)}");
                unchanged += batch!["purchased"]!.GetValue<int>() == 10 ? 1 : 0;
            }

            return unchanged;
        }

        // Streams: what the killed process had read but not acknowledged is claimed after the idle time.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        int streamsLost;
        while ((streamsLost = await UnchangedAsync(stream: true)) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
        }

        return new RestartLoss(changes, await UnchangedAsync(stream: false), streamsLost);
    }

    private static Task SendChangeAsync(ConnectionMultiplexer redis, bool stream, string batchRef, int qty)
    {
        var payload = $$"""{"batchref":"{{batchRef}}","qty":{{qty}}}""";
        return stream
            ? redis.GetDatabase().StreamAddAsync(Inbound, "payload", payload)
            : redis.GetSubscriber().PublishAsync(RedisChannel.Literal(Inbound), payload);
    }

    public JsonObject ToJson() => new()
    {
        ["services"] = "one per transport: PubSub, Streams",
        ["pubsub_round_trip"] = PubSub.ToJson(),
        ["streams_round_trip"] = Streams.ToJson(),
        ["restart"] = new JsonObject
        {
            ["changes_per_transport"] = Restart.Changes,
            ["pubsub_lost"] = Restart.PubSubLost,
            ["streams_lost"] = Restart.StreamsLost,
        },
    };

    public string Describe() =>
        $"""
        pub/sub  change -> line_allocated: {PubSub.Describe()}
        streams  change -> line_allocated: {Streams.Describe()}
        across a SIGKILL + restart, {Restart.Changes} changes each: pub/sub lost {Restart.PubSubLost}, streams lost {Restart.StreamsLost}
        """;

    private static TaskCompletionSource<long> NewArrival() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static async Task<long?> Within(Task<long> arrival) =>
        await Task.WhenAny(arrival, Task.Delay(Timeout)) == arrival ? arrival.Result : null;

    /// <summary>Reads the outbound stream from its end with a blocking XREAD, on a connection of its own.</summary>
    private sealed class OutboundStream : IAsyncDisposable
    {
        private readonly ConnectionMultiplexer _connection;
        private readonly CancellationTokenSource _stop = new();
        private Task _loop = Task.CompletedTask;

        private OutboundStream(ConnectionMultiplexer connection) => _connection = connection;

        public Action<string> OnEntry { get; set; } = _ => { };

        public static async Task<OutboundStream> StartAsync(string redisConnection)
        {
            var reader = new OutboundStream(await ConnectionMultiplexer.ConnectAsync(redisConnection));
            reader._loop = Task.Run(reader.ReadAsync);
            return reader;
        }

        private async Task ReadAsync()
        {
            var database = _connection.GetDatabase();
            // From now: an id made of the current time, so that nothing added between two reads is missed.
            var last = $"{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}-0";
            while (!_stop.IsCancellationRequested)
            {
                var reply = await database.ExecuteAsync("XREAD", "COUNT", 100, "BLOCK", 500, "STREAMS", Outbound, last);
                if (reply.IsNull)
                {
                    continue;
                }

                // RESP2 [[stream, entries]], RESP3 {stream: entries}; an entry is [id, [field, value, ...]].
                var streams = (RedisResult[])reply!;
                foreach (var entry in (RedisResult[])(reply.Resp3Type == ResultType.Map ? streams[1] : ((RedisResult[])streams[0]!)[1])!)
                {
                    var parts = (RedisResult[])entry!;
                    last = (string)parts[0]!;
                    var fields = (RedisResult[])parts[1]!;
                    for (var f = 0; f + 1 < fields.Length; f += 2)
                    {
                        if ((string?)fields[f] == "payload")
                        {
                            OnEntry((string)fields[f + 1]!);
                        }
                    }
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            await _connection.DisposeAsync();
            _stop.Dispose();
        }
    }
}

internal sealed record RestartLoss(int Changes, int PubSubLost, int StreamsLost);
