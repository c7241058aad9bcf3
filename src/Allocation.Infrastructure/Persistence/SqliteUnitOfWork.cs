using System.Data.Common;
using Allocation.Application.Ports;
using Allocation.Infrastructure.Outbox;
using Microsoft.Data.Sqlite;

namespace Allocation.Infrastructure.Persistence;

/// <summary>
/// A unit of work on the shared writer. A command runs whole on the writer (<see cref="RunAsync{T}"/>);
/// used on its own, the unit takes the writer on first use and holds it until it commits or rolls back.
/// Its commit writes the products it saw together with their events (into the outbox) in one transaction.
/// </summary>
public sealed class SqliteUnitOfWork(SqliteWriter writer, TimeProvider time) : IUnitOfWork, IAsyncDisposable
{
    private WriteUnit? _unit;
    private bool _onWriter;
    private ProductRepository? _products;

    public IProductRepository Products => _products ??= new ProductRepository(this);

    public async ValueTask<T> RunAsync<T>(Func<CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken)
    {
        return await writer.RunAsync(
            async unit =>
            {
                _unit = unit;
                _onWriter = true;
                try
                {
                    return await work(cancellationToken);
                }
                finally
                {
                    _unit = null;
                    _onWriter = false;
                    _products?.Clear();
                }
            },
            cancellationToken);
    }

    public async ValueTask CommitAsync(CancellationToken cancellationToken)
    {
        if (_products is null || !_products.HasTracked)
        {
            await RollbackAsync(cancellationToken);
            return;
        }

        var unit = _unit ??= await writer.BeginAsync(cancellationToken);
        try
        {
            _products.Persist(unit.Connection, new OutboxWriter(unit, time));
        }
        catch (SqliteException exception)
        {
            throw Errors.Translate(exception);
        }

        _products.Clear();
        if (_onWriter)
        {
            // The writer keeps the unit and answers the caller once its group is durable.
            unit.Keep();
            return;
        }

        _unit = null;

        // Not cancellable: once the unit is in a group, the caller must learn whether it committed.
        await unit.CommitAsync();
    }

    public ValueTask RollbackAsync(CancellationToken cancellationToken)
    {
        if (!_onWriter)
        {
            _unit?.Rollback();
            _unit = null;
        }

        _products?.Clear();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => RollbackAsync(CancellationToken.None);

    internal async ValueTask<DbConnection> ConnectionAsync(CancellationToken cancellationToken) =>
        (_unit ??= await writer.BeginAsync(cancellationToken)).Connection;
}
