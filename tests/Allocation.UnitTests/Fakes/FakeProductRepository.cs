using Allocation.Application.Ports;
using Allocation.Domain;

namespace Allocation.UnitTests.Fakes;

/// <summary>
/// Products kept in a list. Each load hands out a copy with all its lines, so that a unit of work that
/// is rolled back leaves the stored products as they were and a retried command starts afresh.
/// </summary>
public sealed class FakeProductRepository(IEnumerable<Product> products) : IProductRepository
{
    private readonly List<Product> _stored = products.ToList();
    private readonly List<Product> _seen = [];

    public int Lookups { get; private set; }

    public IReadOnlyList<Product> Seen => _seen;

    public Product? Stored(string sku) => _stored.Find(product => product.Sku == sku);

    public ValueTask<Product?> GetAsync(string sku, CancellationToken cancellationToken) =>
        Load(product => product.Sku == sku);

    public ValueTask<Product?> GetForOrderLineAsync(string sku, string orderId, CancellationToken cancellationToken) =>
        Load(product => product.Sku == sku);

    public ValueTask<Product?> GetForBatchChangeAsync(string reference, int newQty, CancellationToken cancellationToken) =>
        Load(product => product.Batches.Any(batch => batch.Reference == reference));

    public ValueTask<string?> FindSkuOfBatchAsync(string reference, CancellationToken cancellationToken)
    {
        Lookups++;
        var owner = _stored.Find(product => product.Batches.Any(batch => batch.Reference == reference));
        return ValueTask.FromResult(owner?.Sku);
    }

    public void Add(Product product) => _seen.Add(product);

    internal void SaveSeen()
    {
        foreach (var product in _seen)
        {
            _stored.RemoveAll(stored => stored.Sku == product.Sku);
            _stored.Add(product);
        }

        _seen.Clear();
    }

    internal void ForgetSeen() => _seen.Clear();

    private ValueTask<Product?> Load(Predicate<Product> match)
    {
        Lookups++;
        var stored = _stored.Find(match);
        if (stored is null)
        {
            return ValueTask.FromResult<Product?>(null);
        }

        var copy = new Product(
            stored.Sku,
            stored.Batches.Select(batch => Batch.Restore(
                batch.Reference, batch.Sku, batch.PurchasedQuantity, batch.Eta, batch.AllocatedQuantity, batch.Allocations, batch.LastChange)),
            stored.VersionNumber);
        _seen.Add(copy);
        return ValueTask.FromResult<Product?>(copy);
    }
}
