namespace Allocation.Domain;

/// <summary>
/// Stock of one SKU under a unique reference. <see cref="AllocatedQuantity"/> covers every line allocated
/// to the batch, while <see cref="Allocations"/> holds only the lines that were loaded with it, oldest
/// first: a product is loaded with the slice of its lines a command needs, so that allocating costs the
/// same whether a batch holds ten lines or a hundred thousand.
/// </summary>
public sealed class Batch
{
    private readonly List<OrderLine> _allocations;

    public Batch(string reference, string sku, int qty, DateOnly? eta)
        : this(reference, sku, qty, eta, allocatedQuantity: 0, loadedAllocations: [], lastChange: null)
    {
    }

    private Batch(string reference, string sku, int purchasedQuantity, DateOnly? eta, int allocatedQuantity, List<OrderLine> loadedAllocations, ChangeId? lastChange)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reference);
        ArgumentException.ThrowIfNullOrWhiteSpace(sku);
        ArgumentOutOfRangeException.ThrowIfNegative(purchasedQuantity);
        Reference = reference;
        Sku = sku;
        PurchasedQuantity = purchasedQuantity;
        Eta = eta;
        AllocatedQuantity = allocatedQuantity;
        _allocations = loadedAllocations;
        LastChange = lastChange;
    }

    public string Reference { get; }

    public string Sku { get; }

    public DateOnly? Eta { get; }

    public int PurchasedQuantity { get; private set; }

    public int AllocatedQuantity { get; private set; }

    public int AvailableQuantity => PurchasedQuantity - AllocatedQuantity;

    /// <summary>The last upstream change applied to the quantity, when changes came with an id.</summary>
    public ChangeId? LastChange { get; private set; }

    /// <summary>The loaded allocations, in the order they were made.</summary>
    public IReadOnlyList<OrderLine> Allocations => _allocations;

    /// <summary>
    /// Rebuilds a stored batch. <paramref name="allocatedQuantity"/> is the total of all its lines;
    /// <paramref name="loadedAllocations"/> are some of them, oldest first.
    /// </summary>
    public static Batch Restore(
        string reference, string sku, int purchasedQuantity, DateOnly? eta, int allocatedQuantity, IEnumerable<OrderLine> loadedAllocations, ChangeId? lastChange = null)
    {
        // Checked first: a negative total would otherwise be reported as lines exceeding it.
        ArgumentOutOfRangeException.ThrowIfNegative(allocatedQuantity);
        var lines = loadedAllocations.ToList();
        if (lines.Sum(line => line.Qty) > allocatedQuantity)
        {
            throw new ArgumentException($"The loaded lines of batch {reference} exceed its allocated quantity.", nameof(loadedAllocations));
        }

        return new Batch(reference, sku, purchasedQuantity, eta, allocatedQuantity, lines, lastChange);
    }

    public bool CanAllocate(OrderLine line) => line.Sku == Sku && AvailableQuantity >= line.Qty;

    internal bool IsAllocatedTo(string orderId, out OrderLine line)
    {
        foreach (var allocation in _allocations)
        {
            if (allocation.OrderId == orderId)
            {
                line = allocation;
                return true;
            }
        }

        line = null!;
        return false;
    }

    internal bool HasSameDetails(string sku, int qty, DateOnly? eta) =>
        Sku == sku && PurchasedQuantity == qty && Eta == eta;

    internal void Allocate(OrderLine line)
    {
        _allocations.Add(line);
        AllocatedQuantity += line.Qty;
    }

    internal void ChangePurchasedQuantity(int qty)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(qty);
        PurchasedQuantity = qty;
    }

    /// <summary>Whether a change with this id comes after the last one applied (any change does when it has no id).</summary>
    internal bool IsNewer(ChangeId? change) => change is not { } id || LastChange is not { } last || id > last;

    internal void RecordChange(ChangeId change) => LastChange = change;

    internal void Deallocate(OrderLine line)
    {
        _allocations.Remove(line);
        AllocatedQuantity -= line.Qty;
    }

    internal OrderLine DeallocateMostRecent()
    {
        if (_allocations.Count == 0)
        {
            throw new InvalidOperationException(
                $"Batch {Reference} is over-allocated but none of its lines were loaded; the repository must load the lines a quantity change deallocates.");
        }

        var line = _allocations[^1];
        Deallocate(line);
        return line;
    }
}
