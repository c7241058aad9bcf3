using System.Diagnostics.Metrics;
using Allocation.Domain;
using Allocation.Infrastructure.Outbox;
using Allocation.Infrastructure.Persistence;
using Mediator;

namespace Allocation.Infrastructure.Telemetry;

/// <summary>
/// The service's own meter. Domain outcomes are counted from committed events, so a retried or
/// rolled-back command never counts twice; the outbox gauges are read from the table on each scrape.
/// </summary>
public sealed class ServiceMetrics
{
    public const string MeterName = "Allocation.Service";

    private readonly Counter<long> _allocations;
    private readonly Counter<long> _outOfStock;
    private readonly Counter<long> _reallocations;
    private readonly Counter<long> _inbound;
    private readonly Counter<long> _emails;

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

    public void Email(string outcome) => _emails.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
}
