using System.Text.Json;
using Allocation.Application.Commands;
using Allocation.Application.Ports;
using Allocation.Domain;
using Allocation.IntegrationTests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Allocation.IntegrationTests;

[TestFixtureSource(typeof(Providers), nameof(Providers.All))]
public class OutboxTests(string provider) : DatabaseFixture(provider)
{
    private const string Sku = "RED-CHAIR";

    private ServiceInstance? _instance;
    private RecordingEventPublisher _publisher = null!;
    private RecordingNotifier _notifier = null!;

    [TearDown]
    public async Task Stop()
    {
        if (_instance is not null)
        {

            await _instance.DisposeAsync();
        }
    }

    [Test]
    public async Task AllocatedEventsArePublishedInCommitOrderWithTheirOutboxMessageIds()
    {
        var instance = CreateOutboxInstance();
        await instance.SendAsync(new CreateBatch("batch-1", Sku, 100));
        await instance.StartOutboxAsync();

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => instance.SendAsync(new Allocate($"order-{i}", Sku, 1 + (i % 3))))));
        await Eventually.Until(() => AllDispatched(20), "every Allocated entry is marked dispatched");

        var rows = Database.Outbox();
        _publisher.Published.ShouldBe(rows.Select(row =>
        {
            var allocated = Deserialize<Allocated>(row.Payload);
            return new LineMessage(allocated.OrderId, allocated.Sku, allocated.Qty, allocated.BatchReference, row.MessageId);
        }));
        _publisher.Published.Select(message => message.OrderId).ShouldBe(Enumerable.Range(0, 20).Select(i => $"order-{i}"), ignoreOrder: true);
    }

    [Test]
    public async Task AFailingPublisherIsRetriedUntilEveryEventIsDeliveredWithTheLastDeliveriesInCommitOrder()
    {
        var instance = CreateOutboxInstance(new RecordingEventPublisher(failures: 3));
        await instance.SendAsync(new CreateBatch("batch-1", Sku, 100));
        for (var i = 0; i < 5; i++)
        {
            await instance.SendAsync(new Allocate($"order-{i}", Sku, 1));
        }

        await instance.StartOutboxAsync();
        await Eventually.Until(() => AllDispatched(5), "every Allocated entry is marked dispatched");

        var rows = Database.Outbox();
        var published = _publisher.Published;
        _publisher.FailedCalls.ShouldBe(3);
        published.Select(message => message.MessageId).Distinct().ShouldBe(rows.Select(row => row.MessageId), ignoreOrder: true);
        published.GroupBy(message => message.MessageId).ShouldAllBe(resends => resends.Distinct().Count() == 1);
        published.Select((message, position) => (message.MessageId, position))
            .GroupBy(delivery => delivery.MessageId, delivery => delivery.position)
            .OrderBy(deliveries => deliveries.Max())
            .Select(deliveries => deliveries.Key)
            .ShouldBe(rows.Select(row => row.MessageId));
        rows[0].Attempts.ShouldBeGreaterThan(0);
        rows[0].LastError.ShouldBe("The destination is down.");
    }

    [Test]
    public async Task AnAllocatedEntryThatFailsValidationIsDeadLetteredWhileLaterEntriesStillGoOut()
    {
        var instance = CreateOutboxInstance();
        await instance.SendAsync(new CreateBatch("batch-1", Sku, 10));
        await instance.SendAsync(new Allocate("order-1", Sku, 1));
        const string invalid = """{"orderId":"order-2","sku":"RED-CHAIR","qty":1,"batchReference":""}""";
        InsertOutboxEntry("Allocated", invalid);
        await instance.SendAsync(new Allocate("order-3", Sku, 1));

        await instance.StartOutboxAsync();
        await Eventually.Until(() => AllDispatched(3), "every entry is marked dispatched or rejected");

        _publisher.Published.Select(message => message.OrderId).ShouldBe(["order-1", "order-3"]);
        Database.Query<(string, string)>("SELECT source, payload FROM dead_letters").ShouldBe([("outbox:Allocated", invalid)]);
        Database.Outbox()[1].LastError.ShouldNotBeNullOrEmpty();
    }

    [Test]
    public async Task AnUnreadableEntryIsDeadLetteredWhileLaterEntriesStillGoOut()
    {
        var instance = CreateOutboxInstance();
        await instance.SendAsync(new CreateBatch("batch-1", Sku, 10));
        InsertOutboxEntry("Allocated", "{not json");
        await instance.SendAsync(new Allocate("order-1", Sku, 1));

        await instance.StartOutboxAsync();
        await Eventually.Until(() => AllDispatched(2), "every entry is marked dispatched or rejected");

        _publisher.Published.Select(message => message.OrderId).ShouldBe(["order-1"]);
        Database.Query<(string, string)>("SELECT source, payload FROM dead_letters").ShouldBe([("outbox:Allocated", "{not json")]);
    }

    [Test]
    public async Task AnEntryOfAnUnknownEventTypeIsDeadLetteredInsteadOfWaitingForever()
    {
        var instance = CreateOutboxInstance();
        InsertOutboxEntry("BatchRetired", """{"reference":"batch-9"}""");

        await instance.StartOutboxAsync();
        await Eventually.Until(() => AllDispatched(1), "the unknown entry is marked rejected");

        Database.Query<(string, string)>("SELECT source, error FROM dead_letters").ShouldBe([("outbox:BatchRetired", "Unknown event type BatchRetired.")]);
    }

    [Test]
    public async Task ADeallocatedLineIsAllocatedAgainToAnotherBatchByTheSameCommitAndPublished()
    {
        var instance = CreateOutboxInstance();
        await instance.SendAsync(new CreateBatch("batch-1", Sku, 10));
        await instance.SendAsync(new CreateBatch("batch-2", Sku, 10, new DateOnly(2031, 5, 17)));
        await instance.SendAsync(new Allocate("order-1", Sku, 5));

        await instance.SendAsync(new ChangeBatchQuantity("batch-1", 4));

        // Before any dispatch: the change moved the line, and its outbox entry is the Allocated alone.
        Database.Allocations().ShouldBe([("order-1", "batch-2")]);
        (await instance.Services.GetRequiredService<IReadModel>().AllocationsForOrderAsync("order-1", default))
            .ShouldBe([new OrderAllocation(Sku, "batch-2")]);
        Database.Outbox().Select(row => row.Type).ShouldBe(["Allocated", "Allocated"]);
        await instance.StartOutboxAsync();
        await Eventually.Until(() => _publisher.Published.Count == 2, "the reallocated line is published");
        _publisher.Published.Select(message => (message.OrderId, message.Qty, message.BatchRef)).ShouldBe([("order-1", 5, "batch-1"), ("order-1", 5, "batch-2")]);
        await Eventually.Until(() => AllDispatched(2), "every entry is marked dispatched");
    }

    [Test]
    public async Task ADeallocatedEntryLeftByAnOlderVersionIsStillAllocatedAgain()
    {
        // Versions before reallocating in the change itself left the line in no batch and a Deallocated entry.
        var instance = CreateOutboxInstance();
        await instance.SendAsync(new CreateBatch("batch-1", Sku, 10));
        InsertOutboxEntry("Deallocated", $$"""{"orderId":"order-1","sku":"{{Sku}}","qty":5}""");

        await instance.StartOutboxAsync();
        await Eventually.Until(() => _publisher.Published.Count == 1, "the line is allocated again and published");

        _publisher.Published.Select(message => (message.OrderId, message.Qty, message.BatchRef)).ShouldBe([("order-1", 5, "batch-1")]);
        Database.Allocations().ShouldBe([("order-1", "batch-1")]);
        await Eventually.Until(() => AllDispatched(2), "both entries are marked dispatched");
    }

    [Test]
    public async Task EveryOutOfStockEntryNotifiesTheStockTeamOnce()
    {
        var instance = CreateOutboxInstance();
        await instance.SendAsync(new CreateBatch("batch-1", Sku, 1));
        await instance.SendAsync(new CreateBatch("batch-2", "BLUE-VASE", 1));
        await Should.ThrowAsync<OutOfStockException>(() => instance.SendAsync(new Allocate("order-1", Sku, 5)));
        await Should.ThrowAsync<OutOfStockException>(() => instance.SendAsync(new Allocate("order-2", "BLUE-VASE", 5)));
        await Should.ThrowAsync<OutOfStockException>(() => instance.SendAsync(new Allocate("order-3", Sku, 5)));

        await instance.StartOutboxAsync();
        await Eventually.Until(() => AllDispatched(3), "every OutOfStock entry is marked dispatched");

        _notifier.Sent.Select(mail => mail.Subject).ShouldBe(["Out of stock for RED-CHAIR", "Out of stock for BLUE-VASE", "Out of stock for RED-CHAIR"]);
        _notifier.Sent.Select(mail => mail.MessageId).ShouldBe(Database.Outbox().Select(row => row.MessageId));
        _publisher.Published.ShouldBeEmpty();
    }

    [Test]
    public async Task AMailServerThatIsDownDoesNotHoldBackAllocatedEvents()
    {
        var instance = CreateOutboxInstance(notifier: new RecordingNotifier(down: true));
        await instance.SendAsync(new CreateBatch("batch-1", Sku, 2));
        await Should.ThrowAsync<OutOfStockException>(() => instance.SendAsync(new Allocate("order-1", Sku, 5)));
        await instance.StartOutboxAsync();

        await instance.SendAsync(new Allocate("order-2", Sku, 1));
        await instance.SendAsync(new Allocate("order-3", Sku, 1));
        await Eventually.Until(
            () => _publisher.Published.Count == 2 && _notifier.FailedCalls > 0 && Database.Outbox().Single(row => row.Type == "OutOfStock").LastError is not null,
            "both allocations are published, the e-mail tried and its failure recorded");

        _publisher.Published.Select(message => message.OrderId).ShouldBe(["order-2", "order-3"]);
        var outOfStock = Database.Outbox().Single(row => row.Type == "OutOfStock");
        outOfStock.DispatchedAt.ShouldBeNull();
        outOfStock.LastError.ShouldBe("The mail server is down.");
    }

    [Test]
    public async Task AnEntryRefusedUntilItsRetryBudgetIsSpentBecomesADeadLetterAndItsLaneGoesOn()
    {
        var instance = CreateOutboxInstance(
            notifier: new RecordingNotifier(refuses: subject => subject.EndsWith(Sku, StringComparison.Ordinal)),
            settings: new Dictionary<string, string?> { ["Outbox:MaxAttempts"] = "3" });
        await instance.SendAsync(new CreateBatch("batch-1", Sku, 1));
        await instance.SendAsync(new CreateBatch("batch-2", "BLUE-VASE", 1));
        await Should.ThrowAsync<OutOfStockException>(() => instance.SendAsync(new Allocate("order-1", Sku, 5)));
        await Should.ThrowAsync<OutOfStockException>(() => instance.SendAsync(new Allocate("order-2", "BLUE-VASE", 5)));

        await instance.StartOutboxAsync();
        await Eventually.Until(() => AllDispatched(2), "the refused entry is given up and the next one sent");

        _notifier.FailedCalls.ShouldBe(3);
        _notifier.Sent.Select(mail => mail.Subject).ShouldBe(["Out of stock for BLUE-VASE"]);
        var refused = Database.Outbox()[0];
        var deadLetter = Database.DeadLetters().ShouldHaveSingleItem();
        deadLetter.Source.ShouldBe("outbox:OutOfStock");
        deadLetter.Payload.ShouldBe(refused.Payload);
        deadLetter.MessageId.ShouldBe(refused.MessageId);
        deadLetter.Error.ShouldBe("gave up after 3 failed attempts: 550 mailbox unavailable");
    }

    [Test]
    public async Task AnOutageIsWaitedOutWithoutSpendingTheRetryBudget()
    {
        var instance = CreateOutboxInstance(notifier: new RecordingNotifier(down: true), settings: new Dictionary<string, string?> { ["Outbox:MaxAttempts"] = "2" });
        await instance.SendAsync(new CreateBatch("batch-1", Sku, 1));
        await Should.ThrowAsync<OutOfStockException>(() => instance.SendAsync(new Allocate("order-1", Sku, 5)));
        await instance.StartOutboxAsync();
        await Eventually.Until(() => _notifier.FailedCalls >= 6, "the mail server is tried well past the budget");

        _notifier.Down = false;
        await Eventually.Until(() => AllDispatched(1), "the e-mail goes out once the server is back");

        _notifier.Sent.Select(mail => mail.Subject).ShouldBe(["Out of stock for RED-CHAIR"]);
        Database.DeadLetters().ShouldBeEmpty();
        var entry = Database.Outbox().ShouldHaveSingleItem();
        entry.Failures.ShouldBe(0);
        entry.Attempts.ShouldBeGreaterThanOrEqualTo(6);
    }

    [Test]
    public async Task AGivenUpEventReplayedOnceItsDestinationTakesItIsSentWithItsMessageId()
    {
        var instance = CreateOutboxInstance(notifier: new RecordingNotifier(refuses: _ => true), settings: new Dictionary<string, string?> { ["Outbox:MaxAttempts"] = "1" });
        await instance.SendAsync(new CreateBatch("batch-1", Sku, 1));
        await Should.ThrowAsync<OutOfStockException>(() => instance.SendAsync(new Allocate("order-1", Sku, 5)));
        await instance.StartOutboxAsync();
        await Eventually.Until(() => AllDispatched(1), "the refused entry is given up");
        var id = Database.Scalar<long>("SELECT id FROM dead_letters");
        var refused = await instance.SendAsync(new ReplayDeadLetter(id));
        _notifier.Refuses = null;

        var replayed = await instance.SendAsync(new ReplayDeadLetter(id));

        refused.Error.ShouldBe("550 mailbox unavailable");
        replayed.WasApplied.ShouldBeTrue();
        _notifier.Sent.ShouldBe([new Notification("Out of stock for RED-CHAIR", _notifier.Sent[0].Body, Database.Outbox()[0].MessageId)]);
        Database.Scalar<string>("SELECT replay_outcome FROM dead_letters").ShouldBe("applied");
        await Should.ThrowAsync<NotReplayableException>(() => instance.SendAsync(new ReplayDeadLetter(id)));
    }

    [Test]
    public async Task ACancellationGoesOutAfterTheAllocationOfItsLineInOneLane()
    {
        var instance = CreateOutboxInstance();
        await instance.SendAsync(new CreateBatch("batch-1", Sku, 10));
        await instance.SendAsync(new Allocate("order-1", Sku, 2));
        await instance.SendAsync(new Deallocate("order-1", Sku));
        await instance.SendAsync(new Allocate("order-2", Sku, 3));

        await instance.StartOutboxAsync();
        await Eventually.Until(() => AllDispatched(3), "every entry is marked dispatched");

        _publisher.Sent.Select(sent => (sent.Topic, sent.Message.OrderId)).ShouldBe(
            [(Topic.LineAllocated, "order-1"), (Topic.LineDeallocated, "order-1"), (Topic.LineAllocated, "order-2")]);
        _publisher.Sent.Select(sent => sent.Message.MessageId).ShouldBe(Database.Outbox().Select(row => row.MessageId));
        Database.Allocations().ShouldBe([("order-2", "batch-1")]);
    }

    [Test]
    public async Task TwoInstancesOnOneDatabaseSendEveryEventOnceAndTheOtherTakesOverWhenTheSenderStops()
    {
        var (a, publishedByA) = StartedInstance();
        var (b, publishedByB) = StartedInstance();
        await a.StartOutboxAsync();
        await b.StartOutboxAsync();
        await a.SendAsync(new CreateBatch("batch-1", Sku, 1_000));

        await Task.WhenAll(Enumerable.Range(0, 60).Select(i => Task.Run(() => (i % 2 == 0 ? a : b).SendAsync(new Allocate($"order-{i}", Sku, 1)))));
        await Eventually.Until(() => publishedByA.Published.Count + publishedByB.Published.Count >= 60 && AllDispatched(60), "every allocation is sent");
        var (sender, sent, other, standby) = publishedByA.Published.Count > 0 ? (a, publishedByA, b, publishedByB) : (b, publishedByB, a, publishedByA);
        await sender.DisposeAsync();
        await other.SendAsync(new Allocate("order-after", Sku, 1));
        await Eventually.Until(() => standby.Published.Any(message => message.OrderId == "order-after"), "the other instance takes over and sends");

        sent.Published.Count.ShouldBe(60);
        standby.Published.Select(message => message.OrderId).ShouldBe(["order-after"]);
        sent.Published.Select(message => message.MessageId).ShouldBe(Database.Outbox().Take(60).Select(row => row.MessageId));
        await other.DisposeAsync();
    }

    [Test]
    public async Task DispatchedEntriesArePrunedAfterTheRetentionWhilePendingOnesStay()
    {
        var instance = CreateOutboxInstance(
            notifier: new RecordingNotifier(down: true),
            settings: new Dictionary<string, string?> { ["Outbox:Retention"] = "00:00:00", ["Outbox:PruneInterval"] = "00:00:01" });
        await instance.SendAsync(new CreateBatch("batch-1", Sku, 3));
        for (var i = 0; i < 3; i++)
        {
            await instance.SendAsync(new Allocate($"order-{i}", Sku, 1));
        }

        await Should.ThrowAsync<OutOfStockException>(() => instance.SendAsync(new Allocate("order-9", Sku, 1)));

        await instance.StartOutboxAsync();
        await Eventually.Until(() => _publisher.Published.Count == 3 && Database.Outbox().All(row => row.Type != "Allocated"), "the published entries are pruned");

        var remaining = Database.Outbox().ShouldHaveSingleItem();
        remaining.Type.ShouldBe("OutOfStock");
        remaining.DispatchedAt.ShouldBeNull();
        Database.Allocations().Count.ShouldBe(3);
    }

    private ServiceInstance CreateOutboxInstance(
        RecordingEventPublisher? publisher = null, RecordingNotifier? notifier = null, Dictionary<string, string?>? settings = null)
    {
        _publisher = publisher ?? new RecordingEventPublisher();
        _notifier = notifier ?? new RecordingNotifier();
        var values = new Dictionary<string, string?>
        {
            ["Outbox:PollIntervalMs"] = "50",
            ["Outbox:MaxRetryDelayMs"] = "20",
        };
        foreach (var (key, value) in settings ?? [])
        {
            values[key] = value;
        }

        _instance = CreateInstance(values, services =>
        {
            services.AddSingleton<IEventPublisher>(_publisher);
            services.AddSingleton<INotifier>(_notifier);
        });
        return _instance;
    }

    private (ServiceInstance Instance, RecordingEventPublisher Publisher) StartedInstance()
    {
        var publisher = new RecordingEventPublisher();
        var instance = CreateInstance(
            new Dictionary<string, string?> { ["Outbox:PollIntervalMs"] = "50" },
            services =>
            {
                services.AddSingleton<IEventPublisher>(publisher);
                services.AddSingleton<INotifier>(new RecordingNotifier());
            });
        return (instance, publisher);
    }

    private bool AllDispatched(int expected)
    {
        var rows = Database.Outbox();
        return rows.Count == expected && rows.All(row => row.DispatchedAt is not null);
    }

    private void InsertOutboxEntry(string type, string payload) =>
        Database.Execute(
            "INSERT INTO outbox (message_id, type, payload, created_at) VALUES (@messageId, @type, @payload, @now)",
            new { messageId = Guid.NewGuid().ToString(), type, payload, now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });

    private static T Deserialize<T>(string payload) =>
        JsonSerializer.Deserialize<T>(payload, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
}
