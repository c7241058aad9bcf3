using System.Data.Common;
using Allocation.Infrastructure.Persistence;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Allocation.Infrastructure.Outbox;

/// <summary>The outbox table's queries. Reads use reader connections; changes run inside a writer unit.</summary>
public sealed class OutboxStore(SqliteDatabase database)
{
    /// <summary>The oldest undispatched entries of one event type, in commit order.</summary>
    public IReadOnlyList<OutboxEntry> Pending(string type, int limit)
    {
        using var connection = database.OpenReader();
        return connection.Query<OutboxEntry>(
            """
            SELECT id AS Id, message_id AS MessageId, type AS Type, payload AS Payload, attempts AS Attempts, next_attempt_at AS NextAttemptAt
            FROM outbox WHERE type = @type AND dispatched_at IS NULL ORDER BY id LIMIT @limit
            """,
            new { type, limit }).AsList();
    }

    /// <summary>Undispatched entries whose type is none of <paramref name="known"/>.</summary>
    public IReadOnlyList<OutboxEntry> PendingOfOtherTypes(IEnumerable<string> known)
    {
        using var connection = database.OpenReader();
        return connection.Query<OutboxEntry>(
            """
            SELECT id AS Id, message_id AS MessageId, type AS Type, payload AS Payload, attempts AS Attempts, next_attempt_at AS NextAttemptAt
            FROM outbox WHERE dispatched_at IS NULL AND type NOT IN @known ORDER BY id
            """,
            new { known }).AsList();
    }

    /// <summary>How many entries wait, and since when the oldest of them (Unix ms), for health and metrics.</summary>
    public (long Count, long? OldestCreatedAt) Backlog()
    {
        using var connection = database.OpenReader();
        return connection.QuerySingle<(long, long?)>(
            "SELECT count(*), min(created_at) FROM outbox WHERE dispatched_at IS NULL");
    }

    internal static void MarkDispatched(DbConnection connection, IEnumerable<long> ids, long now) =>
        connection.Execute("UPDATE outbox SET dispatched_at = @now WHERE id = @id", ids.Select(id => new { id, now }));

    internal static void MarkRejected(DbConnection connection, long id, string error, long now) =>
        connection.Execute("UPDATE outbox SET dispatched_at = @now, last_error = @error WHERE id = @id", new { id, error, now });

    internal static void ScheduleRetry(DbConnection connection, long id, string error, long due) =>
        connection.Execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = @due, last_error = @error WHERE id = @id",
            new { id, error, due });

    /// <summary>Deletes up to <paramref name="limit"/> entries sent before <paramref name="cutoff"/>.</summary>
    internal static int Prune(DbConnection connection, long cutoff, int limit) =>
        connection.Execute(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE dispatched_at < @cutoff LIMIT @limit)",
            new { cutoff, limit });
}

public sealed class OutboxEntry
{
    public long Id { get; init; }

    public string MessageId { get; init; } = "";

    public string Type { get; init; } = "";

    public string Payload { get; init; } = "";

    public int Attempts { get; init; }

    public long? NextAttemptAt { get; init; }
}
