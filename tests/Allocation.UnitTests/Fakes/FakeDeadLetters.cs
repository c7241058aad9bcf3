using Allocation.Application.Ports;

namespace Allocation.UnitTests.Fakes;

/// <summary>Dead letters a test added, and the replay outcomes recorded on them.</summary>
public sealed class FakeDeadLetters : IDeadLetters
{
    private readonly Dictionary<long, DeadLetter> _letters = [];

    public Dictionary<long, string> Replays { get; } = [];

    /// <summary>The cursor and page size of the last listing.</summary>
    public (long? After, int Limit)? Listed { get; private set; }

    public DeadLetter Add(string source, string payload = "{}", bool truncated = false, string? replayOutcome = null)
    {
        var letter = new DeadLetter(
            _letters.Count + 1, source, payload, DeadLetter.Utf8, payload.Length, truncated, "refused", DateTimeOffset.UnixEpoch, null, replayOutcome);
        _letters[letter.Id] = letter;
        return letter;
    }

    public ValueTask<Page<DeadLetterSummary>> ListAsync(long? after, int limit, CancellationToken cancellationToken)
    {
        Listed = (after, limit);
        return ValueTask.FromResult(new Page<DeadLetterSummary>([], null));
    }

    public ValueTask<DeadLetter?> GetAsync(long id, CancellationToken cancellationToken) => ValueTask.FromResult(_letters.GetValueOrDefault(id));

    public ValueTask RecordReplayAsync(long id, string outcome, CancellationToken cancellationToken)
    {
        Replays[id] = outcome;
        return ValueTask.CompletedTask;
    }
}

/// <summary>Replays the dead letters of one source with the outcome a test set, and remembers what it replayed.</summary>
public sealed class FakeReplayer(string source) : IReplayer
{
    public ReplayOutcome Outcome { get; set; } = ReplayOutcome.Applied;

    public List<long> Replayed { get; } = [];

    public bool Accepts(string candidate) => candidate == source;

    public ValueTask<ReplayOutcome> ReplayAsync(DeadLetter deadLetter, CancellationToken cancellationToken)
    {
        Replayed.Add(deadLetter.Id);
        return ValueTask.FromResult(Outcome);
    }
}
