using Allocation.Application.Commands;
using Allocation.Application.Ports;
using Allocation.Domain;
using Allocation.Infrastructure.Outbox;
using Allocation.IntegrationTests.Support;
using Allocation.Testing.Properties;
using Mediator;
using Microsoft.Extensions.DependencyInjection;

namespace Allocation.IntegrationTests;

/// <summary>
/// The reference model's property through the real bus, the real unit of work and a real database:
/// random sequences of commands, each sent as one request, with the outbox dispatcher running so that
/// deallocated lines are allocated again as in production. After every command, the answer, the events
/// committed to the outbox, the write model's tables and the read model are held to the model.
/// </summary>
/// <remarks>
/// Every case runs on the fixture's one database, its names prefixed with the case's number, so that
/// cases do not meet and the property needs no database of its own per case.
/// </remarks>
[TestFixtureSource(typeof(Providers), nameof(Providers.All))]
public class AllocationProperties(string provider) : DatabaseFixture(provider)
{
    private static readonly StepPools Pools = StepPools.TwoProducts;

    private ServiceInstance _instance = null!;
    private RecordingEventPublisher _publisher = null!;
    private RecordingNotifier _notifier = null!;
    private int _cases;

    [SetUp]
    public async Task StartInstanceWithItsOutbox()
    {
        _publisher = new RecordingEventPublisher();
        _notifier = new RecordingNotifier();
        _instance = CreateInstance(
            new Dictionary<string, string?> { ["Outbox:PollIntervalMs"] = "50", ["Outbox:MaxRetryDelayMs"] = "20" },
            services =>
            {
                services.AddSingleton<IEventPublisher>(_publisher);
                services.AddSingleton<INotifier>(_notifier);
            });
        await _instance.StartOutboxAsync();
    }

    [TearDown]
    public async Task StopInstance()
    {
        if (_instance is not null)
        {
            await _instance.DisposeAsync();
        }
    }

    [Test]
    public async Task EveryCommandAnswersCommitsAndReadsBackWhatTheRulesSay()
    {
        await StepGenerators.Sequences(Pools, maxLength: 20)
            .CheckAsync(RunAgainstTheModelAsync, cases: 20, StepGenerators.Print, TestContext.Out.WriteLine, threads: 1);
    }

    private async Task RunAgainstTheModelAsync(Step[] generated)
    {
        var prefix = $"case{Interlocked.Increment(ref _cases)}-";
        var steps = generated.Select(step => Prefixed(step, prefix)).ToArray();
        var skus = Pools.Skus.Concat(Pools.UnknownSkus).Select(sku => prefix + sku).ToArray();
        var (published, cancelled, mailed) = (_publisher.Sent.Count(sent => sent.Topic == Topic.LineAllocated), _publisher.Sent.Count(sent => sent.Topic == Topic.LineDeallocated), _notifier.Sent.Count);
        var model = new AllocationModel();
        var committed = new List<INotification>();
        for (var i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            var versions = Versions();
            var states = skus.ToDictionary(sku => sku, model.StateOf);
            var lastEntry = Database.Scalar<long?>("SELECT max(id) FROM outbox") ?? 0;

            var expected = model.Apply(step);
            var answer = await SendAsync(step);

            var at = $"after step {i + 1} ({step})";
            answer.ShouldBe(expected.ToString(), at);
            var events = CommittedSince(lastEntry);
            events.ShouldBe(expected.Dispatched, $"{at}: the events committed to the outbox with the step, in order");
            committed.AddRange(events);
            var stored = Versions();
            foreach (var sku in skus)
            {
                StoredBatches(sku).ShouldBe(model.BatchesOf(sku).Select(batch => batch.ToString()), $"{at}: {sku}'s rows in batches and allocations");
                stored.ContainsKey(sku).ShouldBe(model.BatchesOf(sku).Any(), $"{at}: {sku} has a row in products exactly when it has a batch");
                if (versions.TryGetValue(sku, out var before))
                {
                    var changed = model.StateOf(sku) != states[sku];
                    (stored[sku] > before).ShouldBe(changed, $"{at}: {sku}'s version moves on when, and only when, it changed ({before} → {stored[sku]})");
                }

                await ReadModelShowsAsync(model, sku, at);
            }

            Invariants(prefix, at);
        }

        await ReadModelShowsEveryLineAsync(model, prefix, steps);
        await WaitUntilEverythingIsDispatchedAsync();
        _publisher.Sent.Where(sent => sent.Topic == Topic.LineAllocated).Skip(published).Select(sent => Line(sent.Message))
            .ShouldBe(committed.OfType<Allocated>().Select(@event => (@event.OrderId, @event.Sku, @event.Qty, @event.BatchReference)), "line_allocated, once per Allocated, in commit order");
        _publisher.Sent.Where(sent => sent.Topic == Topic.LineDeallocated).Skip(cancelled).Select(sent => Line(sent.Message))
            .ShouldBe(committed.OfType<LineCancelled>().Select(@event => (@event.OrderId, @event.Sku, @event.Qty, @event.BatchReference)), "line_deallocated, once per cancellation");
        _notifier.Sent.Skip(mailed).Select(mail => mail.Subject)
            .ShouldBe(committed.OfType<OutOfStock>().Select(@event => $"Out of stock for {@event.Sku}"), "an e-mail per OutOfStock");
    }

    private async Task<string> SendAsync(Step step)
    {
        try
        {
            return step switch
            {
                AddBatch add => await Done(_instance.SendAsync(new CreateBatch(add.Reference, add.Sku, add.Qty, add.Eta))),
                AllocateLine allocate => $"batch {await _instance.SendAsync(new Allocate(allocate.OrderId, allocate.Sku, allocate.Qty))}",
                ChangeQuantity change => await Done(_instance.SendAsync(new ChangeBatchQuantity(change.Reference, change.Qty, change.Change?.ToString()))),
                CancelLine cancel => $"batch {await _instance.SendAsync(new Deallocate(cancel.OrderId, cancel.Sku))}",
                _ => throw new ArgumentOutOfRangeException(nameof(step), step, "No such step."),
            };
        }
        catch (OutOfStockException)
        {
            return "out of stock";
        }
        catch (RejectedException refused)
        {
            return $"refused ({refused.GetType().Name})";
        }
    }

    private static async Task<string> Done(Task<Unit> sending)
    {
        await sending;
        return "done";
    }

    private async Task WaitUntilEverythingIsDispatchedAsync()
    {
        var deadline = DateTime.UtcNow + Eventually.Limit;
        while (Database.Scalar<long>("SELECT count(*) FROM outbox WHERE dispatched_at IS NULL") > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The outbox did not dispatch every entry.");
            }

            await Task.Delay(5);
        }
    }

    private List<INotification> CommittedSince(long entry) =>
        Database.Query<(string Type, string Payload)>("SELECT type, payload FROM outbox WHERE id > @entry ORDER BY id", new { entry })
            .Select(row => EventSerializer.Deserialize(row.Type, row.Payload))
            .ToList();

    private Dictionary<string, int> Versions() =>
        Database.Query<(string Sku, int Version)>("SELECT sku, version_number FROM products").ToDictionary(row => row.Sku, row => row.Version);

    // Batches in the order added, each with its lines in the order they were allocated (allocation ids).
    private List<string> StoredBatches(string sku)
    {
        var lines = Database.Query<(string Reference, string OrderId, int Qty)>(
            "SELECT b.reference, a.orderid, a.qty FROM allocations a JOIN batches b ON b.id = a.batch_id WHERE a.sku = @sku ORDER BY a.id", new { sku });
        return Database.Query<(string Reference, string Sku, int Purchased, string? Eta, string? LastChange)>(
                "SELECT reference, sku, purchased_quantity, CAST(eta AS TEXT), last_change FROM batches WHERE sku = @sku ORDER BY id", new { sku })
            .Select(batch => ModelBatch.Describe(
                batch.Reference, batch.Sku, batch.Eta is null ? null : DateOnly.ParseExact(batch.Eta, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                batch.Purchased, batch.LastChange, lines.Where(line => line.Reference == batch.Reference).Select(line => (line.OrderId, line.Qty))))
            .ToList();
    }

    // What no command may break, checked on the tables alone.
    private void Invariants(string prefix, string at)
    {
        Database.Query<(string Reference, int Purchased, int Allocated, long Lines)>(
                """
                SELECT b.reference, b.purchased_quantity, b.allocated_quantity, coalesce(sum(a.qty), 0)
                FROM batches b LEFT JOIN allocations a ON a.batch_id = b.id
                WHERE b.reference LIKE @prefix
                GROUP BY b.id, b.reference, b.purchased_quantity, b.allocated_quantity
                """,
                new { prefix = prefix + "%" })
            .Where(batch => batch.Allocated > batch.Purchased || batch.Allocated != batch.Lines)
            .ShouldBeEmpty($"{at}: batches allocated beyond their purchased quantity, or whose allocated quantity is not the sum of their lines");
    }

    private async Task ReadModelShowsAsync(AllocationModel model, string sku, string at)
    {
        var product = await ReadModel.ProductAsync(sku, default);
        if (!model.BatchesOf(sku).Any())
        {
            product.ShouldBeNull($"{at}: GET /products/{sku}");
            return;
        }

        product.ShouldNotBeNull($"{at}: GET /products/{sku}");
        product.Batches.ShouldBe(
            model.InPreferenceOrder(sku).Select(batch => new BatchStock(batch.Reference, batch.Eta, batch.Purchased, batch.Allocated)),
            $"{at}: GET /products/{sku} lists its batches in preference order");
    }

    private async Task ReadModelShowsEveryLineAsync(AllocationModel model, string prefix, Step[] steps)
    {
        foreach (var orderId in Pools.Orders.Select(order => prefix + order))
        {
            var expected = model.Skus.Order(StringComparer.Ordinal)
                .Select(sku => model.Holding(orderId, sku) is { } held ? new OrderAllocation(sku, held.Batch.Reference) : null)
                .OfType<OrderAllocation>();
            (await ReadModel.AllocationsForOrderAsync(orderId, default)).ShouldBe(expected, $"after {steps.Length} steps: GET /allocations/{orderId}");
        }

        foreach (var reference in Pools.References.Select(reference => prefix + reference))
        {
            var batch = await ReadModel.BatchAsync(reference, null, 500, default);
            if (model.Batches.FirstOrDefault(candidate => candidate.Reference == reference) is not { } expected)
            {
                batch.ShouldBeNull($"after {steps.Length} steps: GET /batches/{reference}");
                continue;
            }

            batch.ShouldNotBeNull($"after {steps.Length} steps: GET /batches/{reference}");
            batch.Allocations.Items.Select(line => (line.OrderId, line.Qty))
                .ShouldBe(expected.Lines.Select(line => (line.OrderId, line.Qty)), $"after {steps.Length} steps: GET /batches/{reference} lists its lines oldest first");
        }
    }

    private IReadModel ReadModel => _instance.Services.GetRequiredService<IReadModel>();

    private static (string, string, int, string) Line(LineMessage message) => (message.OrderId, message.Sku, message.Qty, message.BatchRef);

    private static Step Prefixed(Step step, string prefix) => step switch
    {
        AddBatch add => add with { Reference = prefix + add.Reference, Sku = prefix + add.Sku },
        AllocateLine allocate => allocate with { OrderId = prefix + allocate.OrderId, Sku = prefix + allocate.Sku },
        ChangeQuantity change => change with { Reference = prefix + change.Reference },
        CancelLine cancel => cancel with { OrderId = prefix + cancel.OrderId, Sku = prefix + cancel.Sku },
        _ => step,
    };
}
