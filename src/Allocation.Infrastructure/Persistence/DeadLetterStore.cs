using System.Data.Common;
using System.Globalization;
using Allocation.Application.Ports;
using Dapper;

namespace Allocation.Infrastructure.Persistence;

/// <summary>Durable record of every message the service refused and every event it gave up on, with why, for operators to inspect and replay.</summary>
public sealed class DeadLetterStore(ISqlDatabase database, Writer writer, TimeProvider time) : IDeadLetters
{
    public async ValueTask RecordAsync(string source, string payload, string error, CancellationToken cancellationToken) =>
        await writer.WriteAsync(connection => Record(connection, source, payload, error), cancellationToken);

    public async ValueTask<Page<DeadLetter>> ListAsync(long? after, int limit, CancellationToken cancellationToken)
    {
        var rows = await database.ReadAsync(
            async connection => (await connection.QueryAsync<Row>($"{Select} WHERE id > @after ORDER BY id LIMIT @take", new { after = after ?? 0, take = limit + 1 }))
                .Select(row => row.ToDeadLetter())
                .ToList(),
            cancellationToken);
        return ReadModel.PageOf(rows, limit, last => last.Id.ToString(CultureInfo.InvariantCulture));
    }

    public ValueTask<DeadLetter?> GetAsync(long id, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async connection => (await connection.QuerySingleOrDefaultAsync<Row>($"{Select} WHERE id = @id", new { id }))?.ToDeadLetter(),
            cancellationToken);

    public async ValueTask RecordReplayAsync(long id, string outcome, CancellationToken cancellationToken) =>
        await writer.WriteAsync(
            connection => connection.Execute(
                "UPDATE dead_letters SET replayed_at = @now, replay_outcome = @outcome WHERE id = @id",
                new { id, outcome, now = time.GetUtcNow() }),
            cancellationToken);

    internal void Record(DbConnection connection, string source, string payload, string error, string? messageId = null) =>
        connection.Execute(
            "INSERT INTO dead_letters (source, payload, error, created_at, message_id) VALUES (@source, @payload, @error, @createdAt, @messageId)",
            new { source, payload, error, messageId, createdAt = time.GetUtcNow() });

    private const string Select =
        "SELECT id AS Id, source AS Source, payload AS Payload, error AS Error, created_at AS CreatedAt, replayed_at AS ReplayedAt, replay_outcome AS ReplayOutcome, message_id AS MessageId FROM dead_letters";

    private sealed class Row
    {
        public long Id { get; init; }

        public string Source { get; init; } = "";

        public string Payload { get; init; } = "";

        public string Error { get; init; } = "";

        public DateTimeOffset CreatedAt { get; init; }

        public DateTimeOffset? ReplayedAt { get; init; }

        public string? ReplayOutcome { get; init; }

        public string? MessageId { get; init; }

        public DeadLetter ToDeadLetter() => new(Id, Source, Payload, Error, CreatedAt, ReplayedAt, ReplayOutcome, MessageId);
    }
}
