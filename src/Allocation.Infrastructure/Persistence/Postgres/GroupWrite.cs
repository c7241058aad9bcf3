using System.Data.Common;
using Dapper;

namespace Allocation.Infrastructure.Persistence.Postgres;

/// <summary>
/// A commit group's changes, written as a handful of set-based statements instead of several per unit:
/// what the group's units changed is folded into where each row ends up (a product's last version, a
/// batch's last quantities, the lines that are gone and the ones that are new) and sent as arrays.
/// On PostgreSQL the statement count, not the row count, sets the cost of a group.
/// </summary>
internal static class GroupWrite
{
    public static void Execute(DbConnection connection, IReadOnlyList<ChangeSet> changes, string commit)
    {
        var products = new Dictionary<string, (bool IsNew, int ReadVersion, int Version)>(StringComparer.Ordinal);
        var newBatches = new Dictionary<string, BatchState>(StringComparer.Ordinal);
        var changedBatches = new Dictionary<string, BatchState>(StringComparer.Ordinal);
        var removed = new HashSet<LineKey>();
        var added = new List<AddedLine?>();
        var addedAt = new Dictionary<LineKey, int>();
        var outbox = new List<OutboxRow>();
        foreach (var change in changes)
        {
            foreach (var product in change.Products)
            {
                products[product.Sku] = products.TryGetValue(product.Sku, out var first)
                    ? first with { Version = product.Version }
                    : (product.IsNew, product.ReadVersion, product.Version);
            }

            foreach (var batch in change.NewBatches)
            {
                newBatches[batch.Reference] = batch;
            }

            foreach (var batch in change.ChangedBatches)
            {
                (newBatches.ContainsKey(batch.Reference) ? newBatches : changedBatches)[batch.Reference] = batch;
            }

            // A line added in the group and removed again never reaches the table; one removed that was
            // stored is deleted, and may then be added anew (it moved batch).
            foreach (var line in change.RemovedLines)
            {
                if (addedAt.Remove(line, out var index))
                {
                    added[index] = null;
                }
                else
                {
                    removed.Add(line);
                }
            }

            foreach (var line in change.AddedLines)
            {
                addedAt[new LineKey(line.OrderId, line.Sku)] = added.Count;
                added.Add(line);
            }

            outbox.AddRange(change.Outbox);
        }

        var updated = products.Where(product => !product.Value.IsNew).ToList();
        var created = products.Where(product => product.Value.IsNew).ToList();
        var lines = added.OfType<AddedLine>().ToList();
        var inserts = newBatches.Values.ToList();
        var updates = changedBatches.Values.ToList();
        // One round trip, the commit included: a product no longer at the version read raises a
        // serialization failure (allocation_conflict), and the statements after it, COMMIT among them, do not run.
        connection.Execute(
            $"""
            WITH changed AS (
                UPDATE products p SET version_number = u.version
                FROM unnest(@skus, @reads, @versions) AS u(sku, read, version)
                WHERE p.sku = u.sku AND p.version_number = u.read
                RETURNING 1)
            SELECT allocation_conflict('A product changed since the commit group read it.') FROM (SELECT count(*) AS n FROM changed) c WHERE c.n <> @updatedCount;
            INSERT INTO products (sku, version_number) SELECT * FROM unnest(@newSkus, @newVersions);
            DELETE FROM allocations a USING unnest(@removedOrders, @removedSkus) AS d(orderid, sku) WHERE a.orderid = d.orderid AND a.sku = d.sku;
            INSERT INTO batches (reference, sku, purchased_quantity, allocated_quantity, eta, last_change)
                SELECT r, s, p, a, e, c FROM unnest(@batchRefs, @batchSkus, @batchPurchased, @batchAllocated, @batchEtas, @batchChanges) WITH ORDINALITY AS u(r, s, p, a, e, c, n) ORDER BY n;
            UPDATE batches b SET purchased_quantity = u.p, allocated_quantity = u.a, last_change = u.c
                FROM unnest(@changedRefs, @changedPurchased, @changedAllocated, @changedChanges) AS u(r, p, a, c) WHERE b.reference = u.r;
            INSERT INTO allocations (orderid, sku, qty, batch_id)
                SELECT u.o, u.s, u.q, b.id FROM unnest(@lineOrders, @lineSkus, @lineQtys, @lineRefs) WITH ORDINALITY AS u(o, s, q, r, n) JOIN batches b ON b.reference = u.r ORDER BY u.n;
            INSERT INTO outbox (message_id, type, payload, created_at)
                SELECT m, t, p, c FROM unnest(@messageIds, @types, @payloads, @createdAt) WITH ORDINALITY AS u(m, t, p, c, n) ORDER BY n;
            {commit}
            """,
            new
            {
                updatedCount = (long)updated.Count,
                skus = updated.Select(product => product.Key).ToArray(),
                reads = updated.Select(product => product.Value.ReadVersion).ToArray(),
                versions = updated.Select(product => product.Value.Version).ToArray(),
                newSkus = created.Select(product => product.Key).ToArray(),
                newVersions = created.Select(product => product.Value.Version).ToArray(),
                removedOrders = removed.Select(line => line.OrderId).ToArray(),
                removedSkus = removed.Select(line => line.Sku).ToArray(),
                batchRefs = inserts.Select(batch => batch.Reference).ToArray(),
                batchSkus = inserts.Select(batch => batch.Sku).ToArray(),
                batchPurchased = inserts.Select(batch => batch.Purchased).ToArray(),
                batchAllocated = inserts.Select(batch => batch.Allocated).ToArray(),
                batchEtas = inserts.Select(batch => batch.Eta).ToArray(),
                batchChanges = inserts.Select(batch => batch.LastChange).ToArray(),
                changedRefs = updates.Select(batch => batch.Reference).ToArray(),
                changedPurchased = updates.Select(batch => batch.Purchased).ToArray(),
                changedAllocated = updates.Select(batch => batch.Allocated).ToArray(),
                changedChanges = updates.Select(batch => batch.LastChange).ToArray(),
                lineOrders = lines.Select(line => line.OrderId).ToArray(),
                lineSkus = lines.Select(line => line.Sku).ToArray(),
                lineQtys = lines.Select(line => line.Qty).ToArray(),
                lineRefs = lines.Select(line => line.BatchReference).ToArray(),
                messageIds = outbox.Select(row => row.MessageId).ToArray(),
                types = outbox.Select(row => row.Type).ToArray(),
                payloads = outbox.Select(row => row.Payload).ToArray(),
                createdAt = outbox.Select(row => row.CreatedAt).ToArray(),
            });
    }
}
