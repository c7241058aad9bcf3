namespace Allocation.Infrastructure.Outbox;

/// <summary>
/// Wakes the outbox dispatcher: right after a commit that wrote entries (so the happy path never waits
/// for a poll), and when a destination that was down comes back (so waiting entries go at once rather
/// than at their next retry time).
/// </summary>
public sealed class OutboxSignal
{
    private TaskCompletionSource _committed = NewSource();
    private TaskCompletionSource _recovered = NewSource();

    /// <summary>Completes at the next commit; take it before looking for work, then await it.</summary>
    public Task NextCommit => Volatile.Read(ref _committed).Task;

    public Task NextRecovery => Volatile.Read(ref _recovered).Task;

    public void Committed() => Interlocked.Exchange(ref _committed, NewSource()).TrySetResult();

    public void DestinationRecovered() => Interlocked.Exchange(ref _recovered, NewSource()).TrySetResult();

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
