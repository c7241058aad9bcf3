using System.Data.Common;
using Allocation.Application.Ports;
using Allocation.Infrastructure.Outbox;

namespace Allocation.Infrastructure.Persistence;

/// <summary>
/// A unit of work on the shared writer: a command runs whole on the writer (<see cref="RunAsync{T}"/>),
/// and its commit writes the products it saw together with their events (into the outbox) in the
/// unit's savepoint; the writer answers the caller once the group the unit ran in is durable.
/// </summary>
public sealed class UnitOfWork(Writer writer, TimeProvider time) : IUnitOfWork
{
    private WriteUnit? _unit;
    private ProductRepository? _products;

    public IProductRepository Products => _products ??= new ProductRepository(this);

    public async ValueTask<T> RunAsync<T>(Func<CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken)
    {
        return await writer.RunAsync(
            async unit =>
            {
                _unit = unit;
                try
                {
                    return await work(cancellationToken);
                }
                finally
                {
                    _unit = null;
                    _products?.Clear();
                }
            },
            cancellationToken);
    }

    public ValueTask CommitAsync(CancellationToken cancellationToken)
    {
        var unit = Unit;
        if (_products is not { HasTracked: true })
        {
            return ValueTask.CompletedTask;
        }

        try
        {
            _products.Persist(unit.Connection, new OutboxWriter(unit, time));
        }
        catch (DbException exception)
        {
            throw unit.Translate(exception);
        }

        _products.Clear();
        unit.Keep();
        return ValueTask.CompletedTask;
    }

    internal DbConnection Connection => Unit.Connection;

    internal WriteUnit Unit =>
        _unit ?? throw new InvalidOperationException("A unit of work is used inside IUnitOfWork.RunAsync, which gives it the writer.");
}
