using System.Globalization;
using Allocation.Domain;
using Mediator;

namespace Allocation.Testing.Properties;

/// <summary>One thing a client or upstream system asks of the service, as the property tests generate it.</summary>
public abstract record Step;

public sealed record AddBatch(string Reference, string Sku, int Qty, DateOnly? Eta) : Step
{
    public override string ToString() =>
        $"add_batch {Reference} {Sku} qty={Qty} eta={Eta?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "null"}";
}

public sealed record AllocateLine(string OrderId, string Sku, int Qty) : Step
{
    public override string ToString() => $"allocate {OrderId} {Sku} qty={Qty}";
}

public sealed record ChangeQuantity(string Reference, int Qty, ChangeId? Change) : Step
{
    public override string ToString() => $"change_batch_quantity {Reference} qty={Qty}{(Change is { } id ? $" id={id}" : "")}";
}

public sealed record CancelLine(string OrderId, string Sku) : Step
{
    public override string ToString() => $"deallocate {OrderId} {Sku}";
}

/// <summary>
/// What the contract says a step answers and raises, in order. A shrink's events are its deallocations,
/// then those of allocating each deallocated line again, in the order the lines were deallocated.
/// </summary>
public sealed record Outcome(string? BatchRef, Type? Refusal, bool OutOfStock, IReadOnlyList<INotification> Events)
{
    public static Outcome Done(IReadOnlyList<INotification>? events = null) => new(null, null, false, events ?? []);

    public static Outcome Answer(string batchRef, IReadOnlyList<INotification>? events = null) => new(batchRef, null, false, events ?? []);

    public static Outcome Refused<TException>()
        where TException : Exception => new(null, typeof(TException), false, []);

    /// <summary>The events someone acts on once the step committed: every one but a deallocation, which the step itself followed up.</summary>
    public IEnumerable<INotification> Dispatched => Events.Where(@event => @event is not Deallocated);

    public override string ToString() =>
        Refusal is not null ? $"refused ({Refusal.Name})"
        : OutOfStock ? "out of stock"
        : BatchRef is not null ? $"batch {BatchRef}"
        : "done";
}

public sealed record ModelLine(string OrderId, string Sku, int Qty);

public sealed class ModelBatch(string reference, string sku, int purchased, DateOnly? eta, int added)
{
    public string Reference { get; } = reference;

    public string Sku { get; } = sku;

    public DateOnly? Eta { get; } = eta;

    /// <summary>Where the batch stands in the order batches were added, across every SKU.</summary>
    public int Added { get; } = added;

    public int Purchased { get; set; } = purchased;

    /// <summary>The batch's lines, oldest first.</summary>
    public List<ModelLine> Lines { get; } = [];

    public (long Milliseconds, long Sequence)? LastChange { get; set; }

    public int Allocated => Lines.Sum(line => line.Qty);

    public int Available => Purchased - Allocated;

    public override string ToString() =>
        Describe(Reference, Sku, Eta, Purchased, LastChange is { } id ? $"{id.Milliseconds}-{id.Sequence}" : null, Lines.Select(line => (line.OrderId, line.Qty)));

    /// <summary>
    /// A batch as one line of text, the same for the model, a domain object or database rows, so that
    /// they compare as text and a difference reads at a glance.
    /// </summary>
    public static string Describe(string reference, string sku, DateOnly? eta, int purchased, string? lastChange, IEnumerable<(string OrderId, int Qty)> lines) =>
        $"{reference} ({sku}, eta {eta?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "null"}, {purchased} purchased, last change {lastChange ?? "none"}): "
        + string.Join(", ", lines.Select(line => $"{line.OrderId}×{line.Qty}"));
}

/// <summary>
/// The contract's domain rules written as plainly as possible, over lists: no indexes, no versions, no
/// partial loading. The property tests hold the service to it after every step.
/// </summary>
public sealed class AllocationModel
{
    private readonly List<ModelBatch> _batches = [];

    /// <summary>Every batch of every SKU, in the order added.</summary>
    public IReadOnlyList<ModelBatch> Batches => _batches;

    public IEnumerable<ModelBatch> BatchesOf(string sku) => _batches.Where(batch => batch.Sku == sku);

    /// <summary>Rule 1's preference: in the warehouse (no eta) first, then by eta; a stable sort keeps ties in the order added.</summary>
    public IEnumerable<ModelBatch> InPreferenceOrder(string sku) =>
        BatchesOf(sku).OrderBy(batch => batch.Eta is null ? 0 : 1).ThenBy(batch => batch.Eta);

    public IEnumerable<string> Skus => _batches.Select(batch => batch.Sku).Distinct();

    /// <summary>The SKU's whole state as text, to tell whether a step changed it.</summary>
    public string StateOf(string sku) => string.Join(" / ", BatchesOf(sku));

    public Outcome Apply(Step step) => step switch
    {
        AddBatch add => Add(add),
        AllocateLine allocate => Allocate(allocate),
        ChangeQuantity change => Change(change),
        CancelLine cancel => Cancel(cancel),
        _ => throw new ArgumentOutOfRangeException(nameof(step), step, "No such step."),
    };

    // Rule 5: references are unique across SKUs; the same batch again is no change, other details a conflict.
    private Outcome Add(AddBatch step)
    {
        var existing = _batches.Find(batch => batch.Reference == step.Reference);
        if (existing is not null)
        {
            return existing.Sku == step.Sku && existing.Purchased == step.Qty && existing.Eta == step.Eta
                ? Outcome.Done()
                : Outcome.Refused<BatchConflictException>();
        }

        _batches.Add(new ModelBatch(step.Reference, step.Sku, step.Qty, step.Eta, _batches.Count));
        return Outcome.Done();
    }

    // Rules 1 to 4.
    private Outcome Allocate(AllocateLine step)
    {
        if (!BatchesOf(step.Sku).Any())
        {
            return Outcome.Refused<InvalidSkuException>();
        }

        if (Holding(step.OrderId, step.Sku) is { } held)
        {
            return held.Line.Qty == step.Qty ? Outcome.Answer(held.Batch.Reference) : Outcome.Refused<LineConflictException>();
        }

        var events = new List<INotification>();
        var batchRef = Place(new ModelLine(step.OrderId, step.Sku, step.Qty), events);
        return batchRef is null ? new Outcome(null, null, true, events) : Outcome.Answer(batchRef, events);
    }

    // Rule 6, with the change ids of the streams transport: an id no newer than the last applied changes nothing.
    private Outcome Change(ChangeQuantity step)
    {
        var batch = _batches.Find(candidate => candidate.Reference == step.Reference);
        if (batch is null)
        {
            return Outcome.Refused<UnknownBatchException>();
        }

        var id = step.Change is { } change ? (change.Milliseconds, change.Sequence) : ((long, long)?)null;
        if (id is { } newer && batch.LastChange is { } last && newer.CompareTo(last) <= 0)
        {
            return Outcome.Done();
        }

        if (id is not null)
        {
            batch.LastChange = id;
        }

        batch.Purchased = step.Qty;
        var events = new List<INotification>();
        var deallocated = new List<ModelLine>();
        while (batch.Allocated > batch.Purchased)
        {
            var mostRecent = batch.Lines[^1];
            batch.Lines.RemoveAt(batch.Lines.Count - 1);
            deallocated.Add(mostRecent);
            events.Add(new Deallocated(mostRecent.OrderId, mostRecent.Sku, mostRecent.Qty));
        }

        foreach (var line in deallocated)
        {
            Place(line, events);
        }

        return Outcome.Done(events);
    }

    // Rule 9.
    private Outcome Cancel(CancelLine step)
    {
        if (Holding(step.OrderId, step.Sku) is not { } held)
        {
            return Outcome.Refused<LineNotAllocatedException>();
        }

        held.Batch.Lines.Remove(held.Line);
        return Outcome.Answer(held.Batch.Reference, [new LineCancelled(held.Line.OrderId, held.Line.Sku, held.Line.Qty, held.Batch.Reference)]);
    }

    /// <summary>The batch holding the order's line of the SKU, if any.</summary>
    public (ModelBatch Batch, ModelLine Line)? Holding(string orderId, string sku)
    {
        foreach (var batch in BatchesOf(sku))
        {
            if (batch.Lines.Find(line => line.OrderId == orderId) is { } line)
            {
                return (batch, line);
            }
        }

        return null;
    }

    // Rule 1: whole, to the first batch in preference order with room; else rule 2.
    private string? Place(ModelLine line, List<INotification> events)
    {
        var batch = InPreferenceOrder(line.Sku).FirstOrDefault(candidate => candidate.Available >= line.Qty);
        if (batch is null)
        {
            events.Add(new OutOfStock(line.Sku));
            return null;
        }

        batch.Lines.Add(line);
        events.Add(new Allocated(line.OrderId, line.Sku, line.Qty, batch.Reference));
        return batch.Reference;
    }
}
