namespace Allocation.Application.Ports;

/// <summary>
/// One atomic change to the store, run by <see cref="RunAsync{T}"/>: nothing is kept unless the work
/// calls <see cref="CommitAsync"/>, and whatever it leaves uncommitted is rolled back.
/// </summary>
public interface IUnitOfWork
{
    IProductRepository Products { get; }

    /// <summary>
    /// Runs a command's work as this unit of work, with the store to itself: what the work commits is
    /// kept and what it leaves uncommitted is rolled back. The returned task completes, with the work's
    /// result or exception, once what was committed is durable.
    /// </summary>
    /// <param name="keys">What the command is about, so that the store can prepare it ahead (a hint: never required).</param>
    ValueTask<T> RunAsync<T>(MessageKeys keys, Func<CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken);

    /// <summary>
    /// Saves every product this unit loaded or added and records their events for dispatch, in one
    /// transaction; the caller of <see cref="RunAsync{T}"/> hears back once the change is durable.
    /// </summary>
    /// <exception cref="ConcurrencyException">A product changed since it was loaded.</exception>
    ValueTask CommitAsync(CancellationToken cancellationToken);
}
