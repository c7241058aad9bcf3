namespace Allocation.Infrastructure.Outbox;

/// <summary>
/// Wakes the outbox dispatcher's lanes: each right after a commit that wrote entries of its types (so the
/// happy path never waits for a poll, and a lane with nothing new stays asleep), and all when a
/// destination that was down comes back (so waiting entries go at once rather than at their next retry time).
/// </summary>
public sealed class OutboxSignal
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, TaskCompletionSource> _committed = new(StringComparer.Ordinal);
    private TaskCompletionSource _recovered = NewSource();

    /// <summary>Completes at the next commit of an entry of one of these types; take it before looking for work, then await it.</summary>
    public Task NextCommit(IReadOnlyList<string> types)
    {
        lock (_lock)
        {
            if (types.Count == 1)
            {
                return SourceOf(types[0]).Task;
            }

            return Task.WhenAny(types.Select(type => SourceOf(type).Task));
        }
    }

    public Task NextRecovery => Volatile.Read(ref _recovered).Task;

    /// <summary>Entries of these types were committed; with none named (another instance's commit), of any type.</summary>
    public void Committed(IEnumerable<string>? types = null)
    {
        List<TaskCompletionSource> woken = [];
        lock (_lock)
        {
            foreach (var type in types ?? [.. _committed.Keys])
            {
                if (_committed.Remove(type, out var source))
                {
                    woken.Add(source);
                }
            }
        }

        foreach (var source in woken)
        {
            source.TrySetResult();
        }
    }

    public void DestinationRecovered() => Interlocked.Exchange(ref _recovered, NewSource()).TrySetResult();

    private TaskCompletionSource SourceOf(string type)
    {
        if (!_committed.TryGetValue(type, out var source))
        {
            _committed[type] = source = NewSource();
        }

        return source;
    }

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
