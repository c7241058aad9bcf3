using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Allocation.Domain;
using Allocation.Infrastructure.Outbox;
using Allocation.Infrastructure.Persistence;
using Mediator;

namespace Allocation.Infrastructure.Telemetry;

/// <summary>
/// The service's own meter. Domain outcomes are counted from committed events, so a retried or
/// rolled-back command never counts twice; the outbox gauges are read from the table on each scrape, the
/// streams' pending counts are the last the consumer read (it reads them at every claim sweep).
/// </summary>
public sealed class ServiceMetrics
{
    public const string MeterName = "Allocation.Service";

    private readonly Counter<long> _allocations;
    private readonly Counter<long> _outOfStock;
    private readonly Counter<long> _reallocations;
    private readonly Counter<long> _inbound;
    private readonly Counter<long> _emails;
    private readonly Counter<long> _streamRead;
    private readonly Counter<long> _streamAcknowledged;
    private readonly Counter<long> _streamDeadLettered;
    private readonly Counter<long> _streamClaimed;
    private readonly ConcurrentDictionary<(string Stream, string Group), long> _streamPending = new();

    public ServiceMetrics(IMeterFactory meters, OutboxStore outbox, TimeProvider time)
    {
        var meter = meters.Create(MeterName);
        _allocations = meter.CreateCounter<long>("allocation.allocations", "{line}", "Order lines allocated to a batch.");
        _outOfStock = meter.CreateCounter<long>("allocation.out_of_stock", "{line}", "Order lines that no batch could take.");
        _reallocations = meter.CreateCounter<long>("allocation.reallocations", "{line}", "Lines deallocated from a shrinking batch, to be allocated again.");
        _inbound = meter.CreateCounter<long>(
            "allocation.inbound.messages", "{message}", "Inbound Redis messages and stream entries, by transport (pubsub, streams) and outcome (applied, dead_lettered).");
        _emails = meter.CreateCounter<long>("allocation.emails", "{email}", "Out-of-stock e-mails, by outcome (sent, failed, logged).");
        meter.CreateObservableGauge("allocation.outbox.pending", () => outbox.Backlog().Count, "{event}", "Committed events not yet dispatched.");
        meter.CreateObservableGauge(
            "allocation.outbox.oldest_age",
            () => outbox.Backlog().OldestCreatedAt is { } oldest ? (time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(oldest)).TotalSeconds : 0,
            "s",
            "Age of the oldest event not yet dispatched.");
        _streamRead = meter.CreateCounter<long>("allocation.stream.entries.read", "{entry}", "Inbound stream entries delivered to this consumer, redeliveries included.");
        _streamAcknowledged = meter.CreateCounter<long>("allocation.stream.entries.acknowledged", "{entry}", "Inbound stream entries acknowledged (applied or dead-lettered).");
        _streamDeadLettered = meter.CreateCounter<long>("allocation.stream.entries.dead_lettered", "{entry}", "Inbound stream entries stored as dead letters.");
        _streamClaimed = meter.CreateCounter<long>("allocation.stream.entries.claimed", "{entry}", "Inbound stream entries claimed from a consumer that left them pending.");
        meter.CreateObservableGauge(
            "allocation.stream.pending",
            () => _streamPending.Select(pending => new Measurement<long>(
                pending.Value, new KeyValuePair<string, object?>("stream", pending.Key.Stream), new KeyValuePair<string, object?>("group", pending.Key.Group))),
            "{entry}",
            "Entries of an inbound stream delivered to its consumer group and not yet acknowledged (XPENDING), as last read.");
    }

    public void Committed(IEnumerable<INotification> events)
    {
        foreach (var @event in events)
        {
            switch (@event)
            {
                case Allocated:
                    _allocations.Add(1);
                    break;
                case OutOfStock:
                    _outOfStock.Add(1);
                    break;
                case Deallocated:
                    _reallocations.Add(1);
                    break;
            }
        }
    }

    public void Inbound(string channel, string transport, bool applied) =>
        _inbound.Add(
            1,
            new KeyValuePair<string, object?>("channel", channel),
            new KeyValuePair<string, object?>("transport", transport),
            new KeyValuePair<string, object?>("outcome", applied ? "applied" : "dead_lettered"));

    public void StreamRead(string stream, int entries) => _streamRead.Add(entries, new KeyValuePair<string, object?>("stream", stream));

    public void StreamAcknowledged(string stream, int entries) => _streamAcknowledged.Add(entries, new KeyValuePair<string, object?>("stream", stream));

    public void StreamDeadLettered(string stream) => _streamDeadLettered.Add(1, new KeyValuePair<string, object?>("stream", stream));

    public void StreamClaimed(string stream, int entries) => _streamClaimed.Add(entries, new KeyValuePair<string, object?>("stream", stream));

    public void StreamPending(string stream, string group, long entries) => _streamPending[(stream, group)] = entries;

    public void Email(string outcome) => _emails.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
}
