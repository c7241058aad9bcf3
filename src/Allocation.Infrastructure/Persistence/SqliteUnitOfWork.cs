using System.Data.Common;
using Allocation.Application.Ports;
using Allocation.Infrastructure.Outbox;
using Allocation.Infrastructure.Telemetry;
using Microsoft.Data.Sqlite;

namespace Allocation.Infrastructure.Persistence;

/// <summary>
/// A unit of work on the shared writer: it takes its turn on first use, and its commit writes the
/// products it saw together with their events (into the outbox) in one transaction.
/// </summary>
public sealed class SqliteUnitOfWork(SqliteWriter writer, ServiceMetrics metrics, TimeProvider time) : IUnitOfWork, IAsyncDisposable
{
    private WriteUnit? _unit;
    private ProductRepository? _products;

    public IProductRepository Products => _products ??= new ProductRepository(this);

    public async ValueTask CommitAsync(CancellationToken cancellationToken)
    {
        if (_products is null || !_products.HasTracked)
        {
            await RollbackAsync(cancellationToken);
            return;
        }

        var unit = _unit ??= await writer.BeginAsync(cancellationToken);
        var outbox = new OutboxWriter(unit, time);
        try
        {
            _products.Persist(unit.Connection, outbox);
        }
        catch (SqliteException exception)
        {
            throw Errors.Translate(exception);
        }

        _unit = null;
        _products.Clear();

        // Not cancellable: once the unit is in a group, the caller must learn whether it committed.
        await unit.CommitAsync();
        metrics.Committed(outbox.Appended);
    }

    public ValueTask RollbackAsync(CancellationToken cancellationToken)
    {
        _unit?.Rollback();
        _unit = null;
        _products?.Clear();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => RollbackAsync(CancellationToken.None);

    internal async ValueTask<DbConnection> ConnectionAsync(CancellationToken cancellationToken) =>
        (_unit ??= await writer.BeginAsync(cancellationToken)).Connection;
}
