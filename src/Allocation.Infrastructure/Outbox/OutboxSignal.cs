using Allocation.Infrastructure.Persistence;

namespace Allocation.Infrastructure.Outbox;

/// <summary>
/// Wakes the outbox dispatcher's lanes: each right after a commit that wrote entries of its types (so the
/// happy path never waits for a poll, and a lane with nothing new stays asleep), and all when a
/// destination that was down comes back (so waiting entries go at once rather than at their next retry time).
/// </summary>
/// <remarks>
/// A commit may also hand its entries over, so that a lane that had caught up sends them without reading
/// them back. That is only safe when they are every entry committed since the lane last looked: ids are
/// given one after another by the writer that holds the database's write lock, so a gap after the last
/// entry handed over means another writer (a second instance) committed in between, and the lanes read.
/// </remarks>
public sealed class OutboxSignal
{
    // More entries than a lane sends at once are left to be read.
    private const int HandOverLimit = 256;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, TaskCompletionSource> _committed = new(StringComparer.Ordinal);

    // Per type, the entries committed since its lane last looked (NextCommit); null once one of them
    // was not handed over, or too many were.
    private readonly Dictionary<string, List<OutboxEntry>?> _handed = new(StringComparer.Ordinal);
    private long? _lastHandedId;
    private TaskCompletionSource _recovered = NewSource();

    /// <summary>
    /// Completes at the next commit of an entry of one of these types; take it before looking for work,
    /// then await it. From now on the entries of these types that commits hand over are kept for
    /// <see cref="TakeCommitted"/>.
    /// </summary>
    public Task NextCommit(IReadOnlyList<string> types)
    {
        lock (_lock)
        {
            foreach (var type in types)
            {
                _handed[type] = [];
            }

            if (types.Count == 1)
            {
                return SourceOf(types[0]).Task;
            }

            return Task.WhenAny(types.Select(type => SourceOf(type).Task));
        }
    }

    public Task NextRecovery => Volatile.Read(ref _recovered).Task;

    /// <summary>
    /// Entries of these types were committed; with none named (another instance's commit), of any type.
    /// <paramref name="entries"/> are those entries, in id order, when the writer knows them.
    /// </summary>
    public void Committed(IEnumerable<string>? types = null, IReadOnlyList<OutboxEntry>? entries = null)
    {
        List<TaskCompletionSource> woken = [];
        lock (_lock)
        {
            var named = types?.ToList() ?? [.. _committed.Keys];
            HandOver(entries);
            foreach (var type in named)
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

    /// <summary>
    /// The entries of these types committed since their lane last called <see cref="NextCommit"/>, in
    /// commit order, when commits handed every one of them over; else null, and the lane reads.
    /// </summary>
    public IReadOnlyList<OutboxEntry>? TakeCommitted(IReadOnlyList<string> types)
    {
        lock (_lock)
        {
            List<OutboxEntry> taken = [];
            var complete = true;
            foreach (var type in types)
            {
                if (_handed.Remove(type, out var entries) && entries is not null)
                {
                    taken.AddRange(entries);
                }
                else
                {
                    complete = false;
                }
            }

            return complete && taken.Count > 0 ? [.. taken.OrderBy(entry => entry.Id)] : null;
        }
    }

    public void DestinationRecovered() => Interlocked.Exchange(ref _recovered, NewSource()).TrySetResult();

    private void HandOver(IReadOnlyList<OutboxEntry>? entries)
    {
        var next = _lastHandedId + 1;
        var whole = entries is { Count: > 0 } && entries.Select((entry, i) => entry.Id == next + i).All(follows => follows);
        _lastHandedId = entries is { Count: > 0 } ? entries[^1].Id : null;
        foreach (var type in _handed.Keys.ToList())
        {
            if (!whole)
            {
                // Not known, or another writer's entries may lie between: every lane reads.
                _handed[type] = null;
            }
            else if (_handed[type] is { } kept)
            {
                kept.AddRange(entries!.Where(entry => entry.Type == type));
                _handed[type] = kept.Count <= HandOverLimit ? kept : null;
            }
        }
    }

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
