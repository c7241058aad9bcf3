using System.Data.Common;
using Allocation.Application.Ports;
using Allocation.Domain;
using Dapper;

namespace Allocation.Infrastructure.Persistence;

/// <summary>
/// The rows of the write model that one commit group has read, as its committed units left them. Units
/// read through these, so each sees what the units before it in the group did, whether or not that is
/// in the database yet (PostgreSQL writes a group's changes only at its end). What is not here yet is
/// read from the database, after the product is locked against other instances
/// (<see cref="Writer.Group.TryLock"/>); what the group's commands will need is read ahead at its start
/// (<see cref="Begin"/>).
/// </summary>
internal sealed class GroupRows(ISqlDatabase database, DbConnection connection, Writer.Group group)
{
    // Lines of a shrinking batch are read newest first, this many at a time, until enough are freed.
    private const int LinePage = 64;

    // A product, or null for a SKU known to have none.
    private readonly Dictionary<string, ProductRows?> _products = new(StringComparer.Ordinal);

    // The SKU of a batch reference, or null for a reference known to have no batch.
    private readonly Dictionary<string, string?> _owners = new(StringComparer.Ordinal);

    // An order's line of a SKU, or null for a line known not to be allocated.
    private readonly Dictionary<LineKey, LineRow?> _lines = [];

    // Lines allocated in the group order after every stored line, as their ids will.
    private long _nextOrder = long.MaxValue / 2;

    /// <summary>
    /// Begins the group's transaction and, in the same round trip where it can, locks and reads for the
    /// whole group at once what its messages name.
    /// </summary>
    public void Begin(IReadOnlyCollection<MessageKeys> keys, bool durable)
    {
        var begin = database.BeginWrite(durable);
        var references = keys.Select(key => key.BatchRef).OfType<string>().Distinct(StringComparer.Ordinal).ToArray();
        if (references.Length > 0)
        {
            using var owners = connection.QueryMultiple(
                $"{begin}; SELECT reference, sku FROM batches WHERE reference {database.IsAnyOf("@references")}", new { references = database.ListOf(references) });
            foreach (var (reference, sku) in owners.Read<(string, string)>())
            {
                _owners[reference] = sku;
            }

            foreach (var reference in references)
            {
                _owners.TryAdd(reference, null);
            }

            begin = "";
        }

        var skus = keys.Select(key => key.Sku).Concat(references.Select(reference => _owners.GetValueOrDefault(reference)))
            .OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        if (skus.Length == 0)
        {
            if (begin.Length > 0)
            {
                connection.Execute(begin, commandType: System.Data.CommandType.Text);
            }

            return;
        }

        var orders = keys.Select(key => key.OrderId).OfType<string>().Distinct(StringComparer.Ordinal).ToArray();
        var locking = database.LockProductsStatement("@skus");
        var lines = orders.Length == 0
            ? ""
            : $"; SELECT {LineColumns} FROM allocations a JOIN batches b ON b.id = a.batch_id WHERE a.orderid {database.IsAnyOf("@orders")} AND a.sku {database.IsAnyOf("@skus")}";
        using var read = connection.QueryMultiple(
            $"""
            {(begin.Length > 0 ? begin + ";" : "")}{(locking is null ? "" : locking + ";")}
            SELECT sku AS Sku, version_number AS Version FROM products WHERE sku {database.IsAnyOf("@skus")};
            SELECT {BatchColumns} FROM batches WHERE sku {database.IsAnyOf("@skus")} ORDER BY id{lines}
            """,
            new { skus = database.ListOf(skus), orders = database.ListOf(orders) });
        if (locking is not null)
        {
            read.Read<long>();
        }

        group.Locked(skus);
        var products = read.Read<(string Sku, int Version)>().ToDictionary(product => product.Sku, product => product.Version, StringComparer.Ordinal);
        var batches = read.Read<BatchRow>().ToLookup(batch => batch.Sku, StringComparer.Ordinal);
        foreach (var sku in skus)
        {
            _products[sku] = products.TryGetValue(sku, out var version) ? Product(sku, version, batches[sku]) : null;
        }

        if (orders.Length > 0)
        {
            foreach (var line in read.Read<LineRow>())
            {
                _lines[new LineKey(line.OrderId, line.Sku)] = line;
            }
        }

        foreach (var key in keys.Where(key => key is { OrderId: not null, Sku: not null }))
        {
            _lines.TryAdd(new LineKey(key.OrderId!, key.Sku!), null);
        }
    }

    /// <summary>The product's rows as the group left them; null when it has none.</summary>
    /// <exception cref="ProductBusyException">Another instance holds the product.</exception>
    public ProductRows? Product(string sku)
    {
        if (_products.TryGetValue(sku, out var known))
        {
            return known;
        }

        if (!group.TryLock(sku))
        {
            throw new ProductBusyException();
        }

        var version = connection.QuerySingleOrDefault<int?>("SELECT version_number FROM products WHERE sku = @sku", new { sku });
        var product = version is null
            ? null
            : Product(sku, version.Value, connection.Query<BatchRow>($"SELECT {BatchColumns} FROM batches WHERE sku = @sku ORDER BY id", new { sku }));
        _products[sku] = product;
        return product;
    }

    /// <summary>The order's line of the SKU as the group left it; null when it is not allocated.</summary>
    public LineRow? Line(string orderId, string sku)
    {
        var key = new LineKey(orderId, sku);
        if (!_lines.TryGetValue(key, out var line))
        {
            line = connection.QuerySingleOrDefault<LineRow>(
                $"SELECT {LineColumns} FROM allocations a JOIN batches b ON b.id = a.batch_id WHERE a.orderid = @orderId AND a.sku = @sku",
                new { orderId, sku });
            _lines[key] = line;
        }

        return line;
    }

    /// <summary>The SKU of the batch with this reference; null when there is none.</summary>
    public string? SkuOfBatch(string reference)
    {
        if (_owners.TryGetValue(reference, out var owner))
        {
            return owner;
        }

        owner = connection.QuerySingleOrDefault<string>("SELECT sku FROM batches WHERE reference = @reference", new { reference });
        _owners[reference] = owner;
        return owner;
    }

    /// <summary>
    /// The most recent lines of the batch, oldest first, just enough of them to free <paramref name="excess"/>:
    /// those the group allocated to it (the newest) and then the stored ones, newest first.
    /// </summary>
    public IReadOnlyList<LineRow> NewestLines(BatchRows batch, int excess)
    {
        var known = _lines.Values.OfType<LineRow>().Where(line => line.BatchReference == batch.Reference).OrderByDescending(line => line.Order).ToList();
        var stored = new Queue<LineRow>();
        var before = long.MaxValue;
        var exhausted = batch.Id is null;
        var taken = new List<LineRow>();
        for (var (freed, next) = (0, 0); freed < excess;)
        {
            if (stored.Count == 0 && !exhausted)
            {
                var page = connection.Query<LineRow>(
                    $"SELECT {LineColumns} FROM allocations a JOIN batches b ON b.id = a.batch_id WHERE a.batch_id = @Id AND a.id < @before ORDER BY a.id DESC LIMIT @take",
                    new { batch.Id, before, take = LinePage }).AsList();
                exhausted = page.Count < LinePage;
                before = page.Count > 0 ? page[^1].Order : before;

                // The group's own knowledge of a line wins: it may have moved or gone since it was stored.
                foreach (var line in page.Where(line => _lines.TryAdd(new LineKey(line.OrderId, line.Sku), line)))
                {
                    stored.Enqueue(line);
                }

                continue;
            }

            var fromGroup = next < known.Count ? known[next] : null;
            var fromStore = stored.Count > 0 ? stored.Peek() : null;
            var newest = fromGroup is null ? fromStore : fromStore is null || fromGroup.Order > fromStore.Order ? fromGroup : fromStore;
            if (newest is null)
            {
                break;
            }

            if (ReferenceEquals(newest, fromGroup))
            {
                next++;
            }
            else
            {
                stored.Dequeue();
            }

            taken.Add(newest);
            freed += newest.Qty;
        }

        taken.Reverse();
        return taken;
    }

    /// <summary>Takes in what a unit committed, so that the units after it see it.</summary>
    public void Apply(ChangeSet changes)
    {
        foreach (var product in changes.Products)
        {
            var rows = _products.GetValueOrDefault(product.Sku) ?? new ProductRows(product.Sku, product.Version, []);
            rows.Version = product.Version;
            _products[product.Sku] = rows;
        }

        foreach (var batch in changes.NewBatches.Concat(changes.ChangedBatches))
        {
            var rows = _products[batch.Sku]!;
            var stored = rows.Batches.Find(candidate => candidate.Reference == batch.Reference);
            if (stored is null)
            {
                rows.Batches.Add(new BatchRows(null, batch.Reference, batch.Sku, batch.Purchased, batch.Allocated, batch.Eta, batch.LastChange));
                _owners[batch.Reference] = batch.Sku;
            }
            else
            {
                stored.Purchased = batch.Purchased;
                stored.Allocated = batch.Allocated;
                stored.LastChange = batch.LastChange;
            }
        }

        foreach (var line in changes.RemovedLines)
        {
            _lines[line] = null;
        }

        foreach (var line in changes.AddedLines)
        {
            _lines[new LineKey(line.OrderId, line.Sku)] = new LineRow { OrderId = line.OrderId, Sku = line.Sku, Qty = line.Qty, BatchReference = line.BatchReference, Order = _nextOrder++ };
        }
    }

    private const string BatchColumns =
        "id AS Id, reference AS Reference, sku AS Sku, purchased_quantity AS Purchased, allocated_quantity AS Allocated, eta AS Eta, last_change AS LastChange";

    private const string LineColumns = "a.id AS \"Order\", a.orderid AS OrderId, a.sku AS Sku, a.qty AS Qty, b.reference AS BatchReference";

    private static ProductRows Product(string sku, int version, IEnumerable<BatchRow> batches) =>
        new(sku, version, [.. batches.Select(row => new BatchRows(row.Id, row.Reference, row.Sku, row.Purchased, row.Allocated, row.Eta, row.LastChange))]);

    private sealed class BatchRow
    {
        public long Id { get; init; }

        public string Reference { get; init; } = "";

        public string Sku { get; init; } = "";

        public int Purchased { get; init; }

        public int Allocated { get; init; }

        public DateOnly? Eta { get; init; }

        public string? LastChange { get; init; }
    }
}

/// <summary>A product's row and its batches' rows (in the order they were added).</summary>
internal sealed class ProductRows(string sku, int version, List<BatchRows> batches)
{
    public string Sku { get; } = sku;

    public int Version { get; set; } = version;

    public List<BatchRows> Batches { get; } = batches;
}

/// <param name="Id">The stored row's id; null for a batch added in this group and not written yet.</param>
internal sealed class BatchRows(long? id, string reference, string sku, int purchased, int allocated, DateOnly? eta, string? lastChange)
{
    public long? Id { get; } = id;

    public string Reference { get; } = reference;

    public string Sku { get; } = sku;

    public int Purchased { get; set; } = purchased;

    public int Allocated { get; set; } = allocated;

    public DateOnly? Eta { get; } = eta;

    public string? LastChange { get; set; } = lastChange;
}

/// <summary>An allocated line; <see cref="Order"/> is the order lines were allocated in (the stored id).</summary>
internal sealed class LineRow
{
    public long Order { get; init; }

    public string OrderId { get; init; } = "";

    public string Sku { get; init; } = "";

    public int Qty { get; init; }

    public string BatchReference { get; init; } = "";
}
