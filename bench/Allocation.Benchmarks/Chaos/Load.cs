using System.Net.Http.Json;
using System.Text.Json;

namespace Allocation.Benchmarks.Chaos;

/// <param name="Via">How its quantity changes are sent: over pub/sub or the inbound stream.</param>
internal sealed record PlannedBatch(string Reference, string Sku, int Qty, string? Eta, Via Via);

/// <summary>
/// The stock of one scenario: SKUs and batches of its own (named after the scenario, so that its rows,
/// events and e-mails are told apart from every other scenario's), some scarce enough to run out.
/// </summary>
internal sealed class ScenarioPlan
{
    /// <param name="transports">What the service reads: with both, every other batch gets its changes over the stream.</param>
    public ScenarioPlan(string prefix, ChaosTiming timing, IReadOnlySet<Via> transports, Random random)
    {
        Prefix = prefix;

        // Units the allocators ask of one SKU, if each got its share of the allocations (3.5 units a line).
        var demand = timing.MaxAllocations * 3.5 / timing.Skus;
        for (var s = 0; s < timing.Skus; s++)
        {
            var sku = $"{prefix}-SKU{s:00}";
            Skus.Add(sku);
            var scarce = s % 5 == 0;
            var count = 1 + random.Next(3);
            for (var b = 0; b < count; b++)
            {
                // About as much stock as is asked for (two batches a SKU on average), so that most SKUs run out
                // late if at all and out-of-stock answers (each an e-mail, which the service sends one at a time)
                // stay a share of the load rather than most of it, in a quick run as in a full one.
                var qty = scarce ? random.Next(0, 6) : random.Next((int)(demand * 0.2), (int)(demand * 0.8));
                string? eta = b == 0 && random.Next(2) == 0 ? null : $"2030-{1 + random.Next(12):00}-{1 + random.Next(28):00}";
                var via = transports.Count == 2 ? (Batches.Count % 2 == 0 ? Via.Stream : Via.PubSub) : transports.Single();
                Batches.Add(new PlannedBatch($"{prefix}-b{s:00}-{b}", sku, qty, eta, via));
            }
        }
    }

    /// <summary>Starts every SKU, batch reference and order id of the scenario.</summary>
    public string Prefix { get; }

    public List<string> Skus { get; } = [];

    public List<PlannedBatch> Batches { get; } = [];

    public bool Owns(string? sku) => sku is not null && sku.StartsWith(Prefix + "-", StringComparison.Ordinal);
}

/// <summary>
/// HTTP to the instances: each request goes to the next instance in turn, and a write that got no answer
/// or a 5xx is tried again (at most <see cref="MaxAttempts"/> times, with backoff, on the next instance),
/// every try recorded.
/// </summary>
internal sealed class ServiceClient : IDisposable
{
    private const int MaxAttempts = 7;
    private readonly IReadOnlyList<(string Name, HttpClient Http)> _instances;
    private int _next;

    public ServiceClient(IReadOnlyList<ServiceProcess> instances)
    {
        _instances = instances.Select((instance, i) => ($"#{i + 1}", new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(2),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(10),
            MaxConnectionsPerServer = 64,
        })
        {
            BaseAddress = instance.BaseAddress,
            Timeout = TimeSpan.FromSeconds(8),
        })).ToList();
    }

    public IReadOnlyList<(string Name, HttpClient Http)> Instances => _instances;

    public async Task SendAsync(Operation operation, string path, object body, History history, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(150);
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var (name, http) = _instances[(int)((uint)Interlocked.Increment(ref _next) % _instances.Count)];
            var result = await TryAsync(http, name, path, body, history);
            operation.Attempts.Add(result);
            if (result.Status is > 0 and < 500)
            {
                return;
            }

            // Retries go on through the end of the load (an instance may still be coming back), never past a cancel.
            try
            {
                await Task.Delay(delay, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 2_000));
        }
    }

    private static async Task<Attempt> TryAsync(HttpClient http, string instance, string path, object body, History history)
    {
        try
        {
            using var response = await http.PostAsJsonAsync(path, body);
            var text = await response.Content.ReadAsStringAsync();
            var status = (int)response.StatusCode;
            string? batchRef = null;
            string? detail = null;
            if (status is 200 or 201 && text.Length > 0)
            {
                using var document = JsonDocument.Parse(text);
                batchRef = document.RootElement.TryGetProperty("batchref", out var value) ? value.GetString() : null;
            }
            else if (status >= 300)
            {
                detail = Message(text);
            }

            return new Attempt(status, batchRef, detail, instance, history.Now);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or IOException)
        {
            return new Attempt(0, null, exception.GetBaseException().Message, instance, history.Now);
        }
    }

    private static string Message(string problem)
    {
        try
        {
            using var document = JsonDocument.Parse(problem);
            return document.RootElement.TryGetProperty("message", out var message) ? message.GetString() ?? problem : problem;
        }
        catch (JsonException)
        {
            return problem.Length > 200 ? problem[..200] : problem;
        }
    }

    public void Dispose()
    {
        foreach (var (_, http) in _instances)
        {
            http.Dispose();
        }
    }
}

/// <summary>
/// The load of one scenario, all at once: allocators (many SKUs, some running out), a canceller of lines
/// it saw allocated, and batch changes over Redis; bounded by time and by count.
/// </summary>
internal sealed class Load(ScenarioPlan plan, ServiceClient client, RedisMessaging upstream, History history, ChaosTiming timing, int seed)
{
    private const int Allocators = 6;
    private readonly List<Operation> _allocated = [];
    private readonly HashSet<string> _exhausted = [];
    private int _allocations;

    /// <summary>Creates the scenario's batches (through the API, every answer recorded); throws if one is refused.</summary>
    public async Task AddBatchesAsync(CancellationToken cancellationToken)
    {
        foreach (var batch in plan.Batches)
        {
            var operation = new Operation(OperationKind.AddBatch, null, batch.Sku, batch.Qty, batch.Reference);
            history.Add(operation);
            await client.SendAsync(operation, "/add_batch", new Dictionary<string, object?> { ["ref"] = batch.Reference, ["sku"] = batch.Sku, ["qty"] = batch.Qty, ["eta"] = batch.Eta }, history, cancellationToken);
            if (!operation.Acknowledged)
            {
                throw new InvalidOperationException($"Setting up the scenario failed: {operation}");
            }
        }
    }

    /// <summary>Runs until <paramref name="until"/> (or the count bound); requests in flight then finish, retries included.</summary>
    public Task RunAsync(CancellationToken until) =>
        Task.WhenAll(Enumerable.Range(0, Allocators).Select(i => AllocateAsync(i, until)).Append(CancelAsync(until)).Append(ChangeAsync(until)));

    private async Task AllocateAsync(int worker, CancellationToken until)
    {
        var random = new Random(seed * 31 + worker);
        string? previousOrder = null;
        var n = 0;

        // Order ids are the worker's own; a line (order id, SKU) is asked for once, so an answer is never mixed up with another's.
        var lines = new HashSet<(string, string)>();
        while (!until.IsCancellationRequested && Interlocked.Increment(ref _allocations) <= timing.MaxAllocations)
        {
            var sku = PickSku(random);

            // Some orders have lines of several SKUs, so that GET /allocations/{orderid} lists more than one.
            var orderId = previousOrder is not null && random.Next(5) == 0 ? previousOrder : $"{plan.Prefix}-o{worker}-{n++}";
            var qty = 1 + random.Next(6);
            if (!lines.Add((orderId, sku)))
            {
                orderId = $"{plan.Prefix}-o{worker}-{n++}";
                lines.Add((orderId, sku));
            }

            var operation = new Operation(OperationKind.Allocate, orderId, sku, qty, null);
            history.Add(operation);
            await client.SendAsync(operation, "/allocate", new { orderid = orderId, sku, qty }, history, CancellationToken.None);
            previousOrder = orderId;
            if (operation.Acknowledged)
            {
                lock (_allocated)
                {
                    _allocated.Add(operation);
                }
            }
            else if (operation.Last is { Status: 409 } last && last.Detail?.StartsWith("Out of stock", StringComparison.Ordinal) == true)
            {
                lock (_exhausted)
                {
                    _exhausted.Add(sku);
                }
            }
        }
    }

    // A SKU that ran out is mostly left alone (a batch change or a cancel may give it stock again), which
    // keeps out-of-stock answers, and their e-mails, to a fair share of the load.
    private string PickSku(Random random)
    {
        for (var tries = 0; ; tries++)
        {
            var sku = plan.Skus[random.Next(plan.Skus.Count)];
            lock (_exhausted)
            {
                if (tries >= 4 || !_exhausted.Contains(sku) || random.Next(8) == 0)
                {
                    return sku;
                }
            }
        }
    }

    private async Task CancelAsync(CancellationToken until)
    {
        var random = new Random(seed * 31 + 101);
        while (!until.IsCancellationRequested)
        {
            Operation? line = null;
            lock (_allocated)
            {
                if (_allocated.Count > 0 && random.Next(3) == 0)
                {
                    var i = random.Next(_allocated.Count);
                    line = _allocated[i];
                    _allocated.RemoveAt(i);
                }
            }

            if (line is not null)
            {
                var operation = new Operation(OperationKind.Deallocate, line.OrderId, line.Sku, line.Qty, null);
                history.Add(operation);
                await client.SendAsync(operation, "/deallocate", new { orderid = line.OrderId, sku = line.Sku }, history, CancellationToken.None);
            }

            await Pause(TimeSpan.FromMilliseconds(25), until);
        }
    }

    private async Task ChangeAsync(CancellationToken until)
    {
        var random = new Random(seed * 31 + 202);
        while (!until.IsCancellationRequested)
        {
            var batch = plan.Batches[random.Next(plan.Batches.Count)];

            // Mostly shrinking (lines are deallocated and allocated again), sometimes growing.
            var qty = random.Next(0, Math.Max(4, batch.Qty * 5 / 4));
            var operation = new Operation(OperationKind.ChangeBatchQuantity, null, batch.Sku, qty, batch.Reference, batch.Via);
            history.Add(operation);
            try
            {
                (operation.Receivers, operation.EntryId) = await upstream.ChangeBatchQuantityAsync(batch.Reference, qty, batch.Via);
                operation.Attempts.Add(new Attempt(0, null, batch.Via == Via.Stream ? "added" : "published", "redis", history.Now));
            }
            catch (Exception exception) when (exception is StackExchange.Redis.RedisException or TimeoutException)
            {
                operation.Attempts.Add(new Attempt(0, null, $"not published: {exception.Message}", "redis", history.Now));
            }

            await Pause(TimeSpan.FromMilliseconds(120), until);
        }
    }

    private static async Task Pause(TimeSpan pause, CancellationToken until)
    {
        try
        {
            await Task.Delay(pause, until);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
