using Allocation.Application.Ports;

namespace Allocation.Infrastructure.Persistence;

/// <summary>
/// A unit of work on the shared writer: a command runs whole on the writer (<see cref="RunAsync{T}"/>),
/// and its commit hands what changed (the products it saw, with their events for the outbox) to its
/// commit group; the writer answers the caller once that group is durable.
/// </summary>
public sealed class UnitOfWork(Writer writer, TimeProvider time) : IUnitOfWork
{
    private WriteUnit? _unit;
    private ProductRepository? _products;

    public IProductRepository Products => _products ??= new ProductRepository(this);

    public async ValueTask<T> RunAsync<T>(MessageKeys keys, Func<CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken)
    {
        return await writer.RunAsync(
            keys,
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
        if (_products is { HasTracked: true })
        {
            unit.Commit(_products.Changes(time));
            _products.Clear();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>The raw connection, inside the unit's savepoint (for tests that act on the database directly).</summary>
    internal System.Data.Common.DbConnection Connection => Unit.Connection;

    internal WriteUnit Unit =>
        _unit ?? throw new InvalidOperationException("A unit of work is used inside IUnitOfWork.RunAsync, which gives it the writer.");
}
