using System.Data.Common;
using Allocation.Application.Ports;
using Allocation.Domain;
using Dapper;
using Mediator;

namespace Allocation.Infrastructure.Persistence;

/// <summary>
/// What one unit of work changes in the write model, as rows: worked out from the products it loaded
/// and what it did to them, then written by <see cref="WriteRows"/> (row by row, in the unit's
/// savepoint) or, on PostgreSQL, together with the rest of its group at the group's end.
/// </summary>
public sealed class ChangeSet
{
    public List<ProductVersion> Products { get; } = [];

    public List<BatchState> NewBatches { get; } = [];

    public List<BatchState> ChangedBatches { get; } = [];

    public List<LineKey> RemovedLines { get; } = [];

    public List<AddedLine> AddedLines { get; } = [];

    public List<OutboxRow> Outbox { get; } = [];

    public List<INotification> Events { get; } = [];

    /// <summary>Writes the changes one row at a time; a product that moved on since it was read is a conflict.</summary>
    /// <exception cref="ConcurrencyException">Another writer changed a product since this unit read it.</exception>
    public void WriteRows(DbConnection connection)
    {
        foreach (var product in Products)
        {
            if (product.IsNew)
            {
                connection.Execute("INSERT INTO products (sku, version_number) VALUES (@Sku, @Version)", product);
            }
            else if (connection.Execute("UPDATE products SET version_number = @Version WHERE sku = @Sku AND version_number = @ReadVersion", product) == 0)
            {
                throw new ConcurrencyException($"Product {product.Sku} is no longer at version {product.ReadVersion}.");
            }
        }

        // Removed first, so that a line can move to another batch.
        connection.Execute("DELETE FROM allocations WHERE orderid = @OrderId AND sku = @Sku", RemovedLines);
        connection.Execute(
            "INSERT INTO batches (reference, sku, purchased_quantity, allocated_quantity, eta, last_change) VALUES (@Reference, @Sku, @Purchased, @Allocated, @Eta, @LastChange)",
            NewBatches);
        connection.Execute(
            "UPDATE batches SET purchased_quantity = @Purchased, allocated_quantity = @Allocated, last_change = @LastChange WHERE reference = @Reference",
            ChangedBatches);
        connection.Execute(
            "INSERT INTO allocations (orderid, sku, qty, batch_id) SELECT @OrderId, @Sku, @Qty, id FROM batches WHERE reference = @BatchReference",
            AddedLines);
        foreach (var row in Outbox)
        {
            row.Id = connection.QuerySingle<long>(
                "INSERT INTO outbox (message_id, type, payload, created_at) VALUES (@MessageId, @Type, @Payload, @CreatedAt) RETURNING id", row);
        }
    }
}

/// <param name="IsNew">Not in the database before this unit; <see cref="ReadVersion"/> is then meaningless.</param>
public sealed record ProductVersion(string Sku, bool IsNew, int ReadVersion, int Version);

public sealed record BatchState(string Reference, string Sku, int Purchased, int Allocated, DateOnly? Eta, string? LastChange);

public sealed record LineKey(string OrderId, string Sku);

public sealed record AddedLine(string OrderId, string Sku, int Qty, string BatchReference);

public sealed record OutboxRow(string MessageId, string Type, string Payload, long CreatedAt)
{
    /// <summary>The stored row's id, once written row by row (<see cref="ChangeSet.WriteRows"/>); 0 before.</summary>
    public long Id { get; set; }

    public OutboxEntry ToEntry() => new() { Id = Id, MessageId = MessageId, Type = Type, Payload = Payload };
}
