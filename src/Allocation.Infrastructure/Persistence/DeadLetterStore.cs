using System.Data.Common;
using System.Globalization;
using System.Text;
using Allocation.Application.Ports;
using Dapper;
using Microsoft.Extensions.Options;

namespace Allocation.Infrastructure.Persistence;

/// <summary>
/// Durable record of every message the service refused and every event it gave up on, with why, for
/// operators to inspect and replay. Whatever its bytes, a message is kept: as text when it is UTF-8,
/// else as base64; at most <see cref="DeadLetterOptions.MaxPayloadBytes"/> of it, and then marked
/// truncated. Lists read only a preview; retention keeps the table bounded.
/// </summary>
public sealed class DeadLetterStore(ISqlDatabase database, Writer writer, TimeProvider time, IOptions<DeadLetterOptions> options) : IDeadLetters
{
    /// <summary>Characters of a payload that lists show.</summary>
    public const int PreviewLength = 200;

    /// <summary>Characters of a payload that a log line carries.</summary>
    public const int ExcerptLength = 256;

    private readonly DeadLetterOptions _options = options.Value;

    /// <summary>Stores a refused inbound message, as its bytes arrived.</summary>
    public async ValueTask RecordAsync(string source, ReadOnlyMemory<byte> payload, string error, CancellationToken cancellationToken)
    {
        var stored = Keep(payload.Span);
        await writer.WriteAsync(connection => Record(connection, source, stored, error, messageId: null), cancellationToken);
    }

    /// <summary>
    /// Stores a refused inbound message that has an id of its own (a stream entry's), kept in <c>message_id</c>
    /// so that a replay can apply it as that change. Stored once per source and id: an entry delivered again
    /// because its acknowledgement was lost is not a second dead letter.
    /// </summary>
    public async ValueTask RecordAsync(string source, ReadOnlyMemory<byte> payload, string error, string messageId, CancellationToken cancellationToken)
    {
        var stored = Keep(payload.Span);
        await writer.WriteAsync(
            connection =>
            {
                if (connection.ExecuteScalar<long>(
                        "SELECT count(*) FROM dead_letters WHERE source = @source AND message_id = @messageId", new { source, messageId }) == 0)
                {
                    Record(connection, source, stored, error, messageId);
                }
            },
            cancellationToken);
    }

    /// <summary>Stores an event the outbox gave up on (its payload is the service's own JSON).</summary>
    internal void Record(DbConnection connection, string source, string payload, string error, string messageId) =>
        Record(connection, source, Keep(Encoding.UTF8.GetBytes(payload)), error, messageId);

    public async ValueTask<Page<DeadLetterSummary>> ListAsync(long? after, int limit, CancellationToken cancellationToken)
    {
        var rows = await database.ReadAsync(
            async connection => (await connection.QueryAsync<SummaryRow>(
                    $"""
                    SELECT id AS Id, source AS Source, substr(payload, 1, {PreviewLength}) AS Preview, payload_encoding AS PayloadEncoding,
                           payload_size AS Size, truncated AS Truncated, error AS Error, created_at AS CreatedAt, replayed_at AS ReplayedAt,
                           replay_outcome AS ReplayOutcome, message_id AS MessageId
                    FROM dead_letters WHERE id > @after ORDER BY id LIMIT @take
                    """,
                    new { after = after ?? 0, take = limit + 1 }))
                .Select(row => new DeadLetterSummary(
                    row.Id, row.Source, row.Preview, row.PayloadEncoding, row.Size, row.Truncated, row.Error, row.CreatedAt, row.ReplayedAt, row.ReplayOutcome, row.MessageId))
                .ToList(),
            cancellationToken);
        return ReadModel.PageOf(rows, limit, last => last.Id.ToString(CultureInfo.InvariantCulture));
    }

    public ValueTask<DeadLetter?> GetAsync(long id, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async connection => (await connection.QuerySingleOrDefaultAsync<SummaryRow>(
                """
                SELECT id AS Id, source AS Source, payload AS Preview, payload_encoding AS PayloadEncoding, payload_size AS Size,
                       truncated AS Truncated, error AS Error, created_at AS CreatedAt, replayed_at AS ReplayedAt,
                       replay_outcome AS ReplayOutcome, message_id AS MessageId
                FROM dead_letters WHERE id = @id
                """,
                new { id })) is { } row
                ? new DeadLetter(row.Id, row.Source, row.Preview, row.PayloadEncoding, row.Size, row.Truncated, row.Error, row.CreatedAt, row.ReplayedAt, row.ReplayOutcome, row.MessageId)
                : null,
            cancellationToken);

    public async ValueTask RecordReplayAsync(long id, string outcome, CancellationToken cancellationToken) =>
        await writer.WriteAsync(
            connection => connection.Execute(
                "UPDATE dead_letters SET replayed_at = @now, replay_outcome = @outcome WHERE id = @id",
                new { id, outcome = Excerpt(outcome), now = time.GetUtcNow() }),
            cancellationToken);

    /// <summary>Deletes what is past the retention, then the oldest beyond the maximum count; returns how many went.</summary>
    internal int Prune(DbConnection connection)
    {
        var expired = connection.Execute("DELETE FROM dead_letters WHERE created_at < @cutoff", new { cutoff = time.GetUtcNow() - _options.Retention });
        var surplus = connection.Execute(
            "DELETE FROM dead_letters WHERE id <= (SELECT id FROM dead_letters ORDER BY id DESC LIMIT 1 OFFSET @keep)",
            new { keep = _options.MaxCount });
        return expired + surplus;
    }

    /// <summary>The start of a payload or message, for a log line: never the whole of something large.</summary>
    public static string Excerpt(string text) =>
        text.Length <= ExcerptLength ? text : $"{text[..ExcerptLength]}… ({text.Length} characters)";

    /// <summary>An excerpt of raw bytes: as text where they are UTF-8, else as base64.</summary>
    public static string Excerpt(ReadOnlySpan<byte> bytes)
    {
        var head = bytes[..Math.Min(bytes.Length, ExcerptLength * 4)];
        var text = System.Text.Unicode.Utf8.IsValid(head) ? Encoding.UTF8.GetString(head) : $"base64:{Convert.ToBase64String(head[..Math.Min(head.Length, ExcerptLength)])}";
        return text.Length <= ExcerptLength && head.Length == bytes.Length ? text : $"{text[..Math.Min(text.Length, ExcerptLength)]}… ({bytes.Length} bytes)";
    }

    private void Record(DbConnection connection, string source, StoredPayload payload, string error, string? messageId) =>
        connection.Execute(
            """
            INSERT INTO dead_letters (source, payload, payload_encoding, payload_size, truncated, error, created_at, message_id)
            VALUES (@source, @Text, @Encoding, @Size, @Truncated, @error, @createdAt, @messageId)
            """,
            new { source, payload.Text, payload.Encoding, payload.Size, payload.Truncated, error = Excerpt(error), messageId, createdAt = time.GetUtcNow() });

    // The kept bytes end on a character boundary, so a cut never splits a character (nor grows past the limit).
    private StoredPayload Keep(ReadOnlySpan<byte> bytes)
    {
        var keep = bytes.Length;
        if (keep > _options.MaxPayloadBytes)
        {
            keep = _options.MaxPayloadBytes;
            while (keep > 0 && (bytes[keep] & 0xC0) == 0x80)
            {
                keep--;
            }
        }

        var kept = bytes[..keep];
        return System.Text.Unicode.Utf8.IsValid(kept)
            ? new StoredPayload(Encoding.UTF8.GetString(kept), DeadLetter.Utf8, bytes.Length, keep < bytes.Length)
            : new StoredPayload(Convert.ToBase64String(kept), DeadLetter.Base64, bytes.Length, keep < bytes.Length);
    }

    private readonly record struct StoredPayload(string Text, string Encoding, long Size, bool Truncated);

    /// <summary>A row as read; <see cref="Preview"/> holds the whole payload when one dead letter is read.</summary>
    private sealed class SummaryRow
    {
        public long Id { get; init; }

        public string Source { get; init; } = "";

        public string Preview { get; init; } = "";

        public string PayloadEncoding { get; init; } = "";

        public long Size { get; init; }

        public bool Truncated { get; init; }

        public string Error { get; init; } = "";

        public DateTimeOffset CreatedAt { get; init; }

        public DateTimeOffset? ReplayedAt { get; init; }

        public string? ReplayOutcome { get; init; }

        public string? MessageId { get; init; }
    }
}
