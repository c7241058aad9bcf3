using Mediator;

namespace Allocation.Domain;

/// <summary>
/// The aggregate: one SKU and all its batches. Every change goes through a method here, raises the
/// events that describe it and moves <see cref="VersionNumber"/> on, which the repository uses for
/// optimistic concurrency.
/// </summary>
public sealed class Product
{
    private readonly List<Batch> _batches;
    private readonly List<INotification> _events = [];

    public Product(string sku, IEnumerable<Batch>? batches = null, int versionNumber = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sku);
        Sku = sku;
        _batches = batches?.ToList() ?? [];
        VersionNumber = versionNumber;
        if (_batches.Exists(batch => batch.Sku != sku))
        {
            throw new ArgumentException($"Every batch of product {sku} must be for that SKU.", nameof(batches));
        }
    }

    public string Sku { get; }

    public int VersionNumber { get; private set; }

    /// <summary>The batches in the order they were added.</summary>
    public IReadOnlyList<Batch> Batches => _batches;

    /// <summary>What happened to this product since it was loaded, in order.</summary>
    public IReadOnlyList<INotification> Events => _events;

    /// <summary>
    /// Adds a batch. Adding a batch identical to an existing one changes nothing; the same reference
    /// with different details is a conflict.
    /// </summary>
    public void AddBatch(string reference, int qty, DateOnly? eta)
    {
        var existing = _batches.Find(batch => batch.Reference == reference);
        if (existing is not null)
        {
            if (!existing.HasSameDetails(Sku, qty, eta))
            {
                throw new BatchConflictException(
                    reference, $"for sku {Sku} with qty {existing.PurchasedQuantity} and eta {existing.Eta?.ToString("yyyy-MM-dd") ?? "null"}");
            }

            return;
        }

        _batches.Add(new Batch(reference, Sku, qty, eta));
        VersionNumber++;
    }

    /// <summary>
    /// Allocates the line, whole, to the preferred batch that can take it and returns that batch's
    /// reference; returns null and raises <see cref="OutOfStock"/> when none can. A line that is already
    /// allocated with the same quantity gets its batch again, with no change and no event.
    /// </summary>
    public string? Allocate(OrderLine line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (line.Sku != Sku)
        {
            throw new ArgumentException($"Line for sku {line.Sku} cannot be allocated to product {Sku}.", nameof(line));
        }

        foreach (var batch in _batches)
        {
            if (batch.IsAllocatedTo(line.OrderId, out var existing))
            {
                return existing.Qty == line.Qty
                    ? batch.Reference
                    : throw new LineConflictException(line.OrderId, line.Sku, existing.Qty, line.Qty);
            }
        }

        var chosen = PreferredBatchFor(line);
        if (chosen is null)
        {
            _events.Add(new OutOfStock(Sku));
            return null;
        }

        chosen.Allocate(line);
        VersionNumber++;
        _events.Add(new Allocated(line.OrderId, line.Sku, line.Qty, chosen.Reference));
        return chosen.Reference;
    }

    /// <summary>
    /// Sets a batch's purchased quantity; while it is over-allocated its most recently allocated line is
    /// deallocated (<see cref="Deallocated"/>), and then each deallocated line, in that order, is allocated
    /// again as <see cref="Allocate"/> does (<see cref="Allocated"/>, or <see cref="OutOfStock"/>), in
    /// the same change: no line is ever left deallocated by a committed change. A change with an id is
    /// applied only if it is newer than the last one the batch applied; an older or repeated one changes
    /// nothing. Returns whether the change was applied.
    /// </summary>
    public bool ChangeBatchQuantity(string reference, int qty, ChangeId? change = null)
    {
        var batch = _batches.Find(candidate => candidate.Reference == reference) ?? throw new UnknownBatchException(reference);
        if (!batch.IsNewer(change))
        {
            return false;
        }

        if (change is { } id)
        {
            batch.RecordChange(id);
            VersionNumber++;
        }

        if (batch.PurchasedQuantity == qty)
        {
            return true;
        }

        batch.ChangePurchasedQuantity(qty);
        var deallocated = new List<OrderLine>();
        while (batch.AvailableQuantity < 0)
        {
            var line = batch.DeallocateMostRecent();
            _events.Add(new Deallocated(line.OrderId, line.Sku, line.Qty));
            deallocated.Add(line);
        }

        // The line is in no batch now ((order, sku) is allocated once at most), so this allocates it afresh.
        foreach (var line in deallocated)
        {
            Allocate(line);
        }

        if (change is null)
        {
            VersionNumber++;
        }

        return true;
    }

    /// <summary>
    /// Cancels the order's line: its quantity goes back to its batch and <see cref="LineCancelled"/> is
    /// raised. Returns the reference of the batch it left.
    /// </summary>
    public string Deallocate(string orderId)
    {
        foreach (var batch in _batches)
        {
            if (batch.IsAllocatedTo(orderId, out var line))
            {
                batch.Deallocate(line);
                VersionNumber++;
                _events.Add(new LineCancelled(line.OrderId, line.Sku, line.Qty, batch.Reference));
                return batch.Reference;
            }
        }

        throw new LineNotAllocatedException(orderId, Sku);
    }

    public void ClearEvents() => _events.Clear();

    // A single pass rather than a sort: strict comparisons keep the earliest-added batch on ties.
    private Batch? PreferredBatchFor(OrderLine line)
    {
        Batch? best = null;
        foreach (var batch in _batches)
        {
            if (batch.CanAllocate(line) && (best is null || Precedes(batch.Eta, best.Eta)))
            {
                best = batch;
            }
        }

        return best;
    }

    private static bool Precedes(DateOnly? eta, DateOnly? other) =>
        other is not null && (eta is null || eta < other);
}
