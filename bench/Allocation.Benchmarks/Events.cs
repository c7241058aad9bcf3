using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using StackExchange.Redis;

namespace Allocation.Benchmarks;

/// <summary>
/// Two round trips, one event at a time so that each is timed alone:
/// <list type="bullet">
/// <item>reallocation: PUBLISH change_batch_quantity that empties the batch holding an order, until the
/// line_allocated for that order (to its other batch) arrives;</item>
/// <item>outbox: POST /allocate sent, until its line_allocated arrives (an upper bound of commit to publish).</item>
/// </list>
/// </summary>
internal sealed record EventLatency(Stats Reallocation, Stats Outbox)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public static async Task<EventLatency> MeasureAsync(HttpClient http, string redisConnection, int count, string stamp)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(redisConnection);
        var arrivals = new ConcurrentDictionary<string, TaskCompletionSource<long>>();
        var queue = await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal("line_allocated"));
        queue.OnMessage(message =>
        {
            var orderId = JsonDocument.Parse((string)message.Message!).RootElement.GetProperty("orderid").GetString()!;
            if (arrivals.TryGetValue(orderId, out var arrival))
            {
                arrival.TrySetResult(Stopwatch.GetTimestamp());
            }
        });

        var publisher = redis.GetSubscriber();
        var reallocation = new List<double>(count);
        var outbox = new List<double>(count);
        var lostReallocation = 0;
        var lostOutbox = 0;
        for (var i = 0; i < count; i++)
        {
            var sku = $"EV-{i}-{stamp}";
            var first = $"ev-a-{i}-{stamp}";
            var second = $"ev-b-{i}-{stamp}";
            var order = $"ev-o-{i}-{stamp}";
            await Setup.AddBatchAsync(http, first, sku, 1);
            await Setup.AddBatchAsync(http, second, sku, 10, "2099-01-01");

            var allocated = arrivals[order] = NewArrival();
            var sent = Stopwatch.GetTimestamp();
            var response = await http.PostAsync("/allocate", new StringContent($$"""{"orderid":"{{order}}","sku":"{{sku}}","qty":1}""", System.Text.Encoding.UTF8, "application/json"));
            response.EnsureSuccessStatusCode();
            if (await Within(allocated.Task) is { } arrivedFirst)
            {
                outbox.Add(Stopwatch.GetElapsedTime(sent, arrivedFirst).TotalMilliseconds);
            }
            else
            {
                lostOutbox++;
            }

            var reallocated = arrivals[order] = NewArrival();
            var published = Stopwatch.GetTimestamp();
            await publisher.PublishAsync(RedisChannel.Literal("change_batch_quantity"), $$"""{"batchref":"{{first}}","qty":0}""");
            if (await Within(reallocated.Task) is { } arrived)
            {
                reallocation.Add(Stopwatch.GetElapsedTime(published, arrived).TotalMilliseconds);
            }
            else
            {
                lostReallocation++;
            }

            arrivals.TryRemove(order, out _);
        }

        await queue.UnsubscribeAsync();
        return new EventLatency(Stats.Of(reallocation, lostReallocation), Stats.Of(outbox, lostOutbox));
    }

    public JsonObject ToJson() => new()
    {
        ["reallocation_round_trip"] = Reallocation.ToJson(),
        ["allocate_to_line_allocated"] = Outbox.ToJson(),
    };

    public string Describe() =>
        $"change_batch_quantity -> line_allocated: {Reallocation.Describe()}\nPOST /allocate -> line_allocated:         {Outbox.Describe()}";

    private static TaskCompletionSource<long> NewArrival() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static async Task<long?> Within(Task<long> arrival) =>
        await Task.WhenAny(arrival, Task.Delay(Timeout)) == arrival ? arrival.Result : null;
}

internal sealed record Stats(int Count, int Lost, double P50Ms, double P99Ms, double MaxMs)
{
    public static Stats Of(List<double> samples, int lost)
    {
        samples.Sort();
        double At(double q) => samples.Count == 0 ? double.NaN : samples[Math.Min(samples.Count - 1, (int)Math.Ceiling(q * samples.Count) - 1)];
        return new Stats(samples.Count, lost, At(0.50), At(0.99), samples.Count == 0 ? double.NaN : samples[^1]);
    }

    public JsonObject ToJson() => new()
    {
        ["events"] = Count,
        ["lost"] = Lost,
        ["p50_ms"] = Math.Round(P50Ms, 3),
        ["p99_ms"] = Math.Round(P99Ms, 3),
        ["max_ms"] = Math.Round(MaxMs, 3),
    };

    public string Describe() => $"{Count} events, p50 {P50Ms:0.00} ms, p99 {P99Ms:0.00} ms, max {MaxMs:0.00} ms, lost {Lost}";
}
