namespace Allocation.Application.Ports;

/// <summary>Messages the service refused and events it gave up on, kept for operators to inspect and replay.</summary>
public interface IDeadLetters
{
    /// <summary>A page of dead letters, each with a short preview of its payload rather than the whole.</summary>
    ValueTask<Page<DeadLetterSummary>> ListAsync(long? after, int limit, CancellationToken cancellationToken);

    /// <summary>One dead letter with its whole payload; null when there is none with the id.</summary>
    ValueTask<DeadLetter?> GetAsync(long id, CancellationToken cancellationToken);

    ValueTask RecordReplayAsync(long id, string outcome, CancellationToken cancellationToken);
}

/// <param name="Source">Where it came from: <c>redis:&lt;channel&gt;</c> for inbound messages, <c>outbox:&lt;event&gt;</c> for outbound events.</param>
/// <param name="Payload">The message as text, or, when its bytes are not UTF-8, those bytes in base64 (<see cref="PayloadEncoding"/>).</param>
/// <param name="Size">The message's size in bytes, as it arrived.</param>
/// <param name="Truncated">Only the first bytes were kept (the message was larger than the service keeps); it is never replayed.</param>
/// <param name="MessageId">An outbound event's message id, which a replay sends again; null for inbound messages.</param>
public sealed record DeadLetter(
    long Id,
    string Source,
    string Payload,
    string PayloadEncoding,
    long Size,
    bool Truncated,
    string Error,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ReplayedAt,
    string? ReplayOutcome,
    string? MessageId = null)
{
    public const string Utf8 = "utf-8";

    public const string Base64 = "base64";

    /// <summary>The message's bytes as they arrived (as far as they were kept).</summary>
    public byte[] Bytes => PayloadEncoding == Base64 ? Convert.FromBase64String(Payload) : System.Text.Encoding.UTF8.GetBytes(Payload);
}

/// <summary>A dead letter as lists show it: <see cref="Preview"/> is the start of its payload.</summary>
public sealed record DeadLetterSummary(
    long Id,
    string Source,
    string Preview,
    string PayloadEncoding,
    long Size,
    bool Truncated,
    string Error,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ReplayedAt,
    string? ReplayOutcome,
    string? MessageId);

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
