namespace Allocation.Application.Ports;

/// <summary>Messages the service refused, kept for operators to inspect and replay.</summary>
public interface IDeadLetters
{
    ValueTask<Page<DeadLetter>> ListAsync(long? after, int limit, CancellationToken cancellationToken);

    ValueTask<DeadLetter?> GetAsync(long id, CancellationToken cancellationToken);

    ValueTask RecordReplayAsync(long id, string outcome, CancellationToken cancellationToken);
}

/// <param name="Source">Where it came from: <c>redis:&lt;channel&gt;</c> for inbound messages, <c>outbox:&lt;event&gt;</c> for outbound events.</param>
public sealed record DeadLetter(
    long Id, string Source, string Payload, string Error, DateTimeOffset CreatedAt, DateTimeOffset? ReplayedAt, string? ReplayOutcome);

/// <summary>Applies an inbound message as if it had just arrived, through the same parsing and pipeline.</summary>
public interface IInboundMessages
{
    bool Accepts(string source);

    ValueTask<InboundOutcome> ApplyAsync(string source, string payload, CancellationToken cancellationToken);
}

/// <param name="Error">Why the message was refused; null when it was applied.</param>
public sealed record InboundOutcome(string? Error)
{
    public bool Applied => Error is null;
}
