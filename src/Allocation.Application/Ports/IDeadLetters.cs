namespace Allocation.Application.Ports;

/// <summary>Messages the service refused and events it gave up on, kept for operators to inspect and replay.</summary>
public interface IDeadLetters
{
    ValueTask<Page<DeadLetter>> ListAsync(long? after, int limit, CancellationToken cancellationToken);

    ValueTask<DeadLetter?> GetAsync(long id, CancellationToken cancellationToken);

    ValueTask RecordReplayAsync(long id, string outcome, CancellationToken cancellationToken);
}

/// <param name="Source">Where it came from: <c>redis:&lt;channel&gt;</c> for inbound messages, <c>outbox:&lt;event&gt;</c> for outbound events.</param>
/// <param name="MessageId">An outbound event's message id, which a replay sends again; null for inbound messages.</param>
public sealed record DeadLetter(
    long Id, string Source, string Payload, string Error, DateTimeOffset CreatedAt, DateTimeOffset? ReplayedAt, string? ReplayOutcome, string? MessageId = null);

/// <summary>
/// Sends a dead letter through again as if it had just arrived or been committed, through the same
/// checks and pipeline as the live path. Each source of dead letters (inbound channels, the outbox) has one.
/// </summary>
public interface IReplayer
{
    bool Accepts(string source);

    ValueTask<ReplayOutcome> ReplayAsync(DeadLetter deadLetter, CancellationToken cancellationToken);
}

/// <param name="Error">Why the message was refused again; null when it was applied or sent.</param>
public sealed record ReplayOutcome(string? Error)
{
    public static ReplayOutcome Applied { get; } = new((string?)null);

    public bool WasApplied => Error is null;
}
