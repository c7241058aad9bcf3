namespace Allocation.Application.Ports;

/// <summary>
/// One atomic change to the store. Nothing is kept unless <see cref="CommitAsync"/> is called; the
/// pipeline rolls back whatever a command left uncommitted.
/// </summary>
public interface IUnitOfWork
{
    IProductRepository Products { get; }

    /// <summary>
    /// Saves every product this unit loaded or added and records their events for dispatch, in one
    /// transaction. Returns once the change is durable.
    /// </summary>
    /// <exception cref="ConcurrencyException">A product changed since it was loaded.</exception>
    ValueTask CommitAsync(CancellationToken cancellationToken);

    /// <summary>Discards uncommitted changes; does nothing when there are none.</summary>
    ValueTask RollbackAsync(CancellationToken cancellationToken);
}
