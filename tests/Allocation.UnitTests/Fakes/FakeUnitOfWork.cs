using Allocation.Application.Ports;
using Allocation.Domain;
using Mediator;

namespace Allocation.UnitTests.Fakes;

public sealed class FakeUnitOfWork(params Product[] products) : IUnitOfWork
{
    private readonly FakeProductRepository _products = new(products);
    private readonly List<INotification> _committedEvents = [];
    private readonly Queue<INotification> _undispatched = new();

    public IProductRepository Products => _products;

    public FakeProductRepository Repository => _products;

    /// <summary>How many of the next commits fail as if another writer got there first.</summary>
    public int ConflictingCommits { get; set; }

    /// <summary>Thrown by every commit while set, as a store that cannot take writes would.</summary>
    public Exception? CommitFailure { get; set; }

    public int CommitAttempts { get; private set; }

    public int Commits { get; private set; }

    /// <summary>Rollbacks that discarded products loaded or added since the last commit.</summary>
    public int DiscardedUnits { get; private set; }

    public IReadOnlyList<INotification> CommittedEvents => _committedEvents;

    /// <summary>Runs the work; what it loaded or added and did not commit is discarded, as a rolled-back unit.</summary>
    public async ValueTask<T> RunAsync<T>(MessageKeys keys, Func<CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            return await work(cancellationToken);
        }
        finally
        {
            if (_products.Seen.Count > 0)
            {
                DiscardedUnits++;
                _products.ForgetSeen();
            }
        }
    }

    public ValueTask CommitAsync(CancellationToken cancellationToken)
    {
        CommitAttempts++;
        if (CommitFailure is not null)
        {
            throw CommitFailure;
        }

        if (ConflictingCommits > 0)
        {
            ConflictingCommits--;
            throw new ConcurrencyException("Another writer changed the product.");
        }

        foreach (var product in _products.Seen)
        {
            _committedEvents.AddRange(product.Events);
            foreach (var @event in product.Events.Where(DomainEvents.IsDispatched))
            {
                _undispatched.Enqueue(@event);
            }

            product.ClearEvents();
        }

        _products.SaveSeen();
        Commits++;
        return ValueTask.CompletedTask;
    }

    /// <summary>The committed events no one has dispatched yet, oldest first.</summary>
    public IReadOnlyList<INotification> TakeUndispatched()
    {
        var events = _undispatched.ToList();
        _undispatched.Clear();
        return events;
    }
}
