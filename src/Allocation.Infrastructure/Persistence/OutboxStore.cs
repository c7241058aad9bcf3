using System.Data.Common;
using Dapper;

namespace Allocation.Infrastructure.Persistence;

/// <summary>The outbox table's queries. Reads use reader connections; changes run inside a writer unit.</summary>
public sealed class OutboxStore(ISqlDatabase database)
{
    /// <summary>The oldest undispatched entries of a lane's event types, in commit order.</summary>
    public IReadOnlyList<OutboxEntry> Pending(IReadOnlyList<string> types, int limit) =>
        database.Read(connection => connection.Query<OutboxEntry>(
            $"{Select} WHERE type {database.IsAnyOf("@types")} AND dispatched_at IS NULL ORDER BY id LIMIT @limit",
            new { types = types.ToArray(), limit }).AsList());

    /// <summary>Undispatched entries whose type is none of <paramref name="known"/>.</summary>
    public IReadOnlyList<OutboxEntry> PendingOfOtherTypes(IEnumerable<string> known) =>
        database.Read(connection => connection.Query<OutboxEntry>(
            $"{Select} WHERE dispatched_at IS NULL AND NOT (type {database.IsAnyOf("@known")}) ORDER BY id", new { known = known.ToArray() }).AsList());

    /// <summary>How many entries wait, and since when the oldest of them (Unix ms), for health and metrics.</summary>
    public (long Count, long? OldestCreatedAt) Backlog() =>
        database.Read(connection => connection.QuerySingle<(long, long?)>("SELECT count(*), min(created_at) FROM outbox WHERE dispatched_at IS NULL"));

    internal static void Append(DbConnection connection, string messageId, string type, string payload, long now) =>
        connection.Execute(
            "INSERT INTO outbox (message_id, type, payload, created_at) VALUES (@messageId, @type, @payload, @now)",
            new { messageId, type, payload, now });

    internal static void MarkDispatched(DbConnection connection, IEnumerable<long> ids, long now) =>
        connection.Execute("UPDATE outbox SET dispatched_at = @now WHERE id = @id", ids.Select(id => new { id, now }));

    internal static void MarkRejected(DbConnection connection, long id, string error, long now) =>
        connection.Execute("UPDATE outbox SET dispatched_at = @now, last_error = @error WHERE id = @id", new { id, error, now });

    /// <param name="spent">Whether the attempt spends the entry's retry budget (an outage does not).</param>
    internal static void ScheduleRetry(DbConnection connection, long id, string error, long due, bool spent) =>
        connection.Execute(
            "UPDATE outbox SET attempts = attempts + 1, failures = failures + @spent, next_attempt_at = @due, last_error = @error WHERE id = @id",
            new { id, error, due, spent = spent ? 1 : 0 });

    /// <summary>Deletes up to <paramref name="limit"/> entries sent before <paramref name="cutoff"/>.</summary>
    internal static int Prune(DbConnection connection, long cutoff, int limit) =>
        connection.Execute(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE dispatched_at < @cutoff LIMIT @limit)",
            new { cutoff, limit });

    private const string Select =
        "SELECT id AS Id, message_id AS MessageId, type AS Type, payload AS Payload, attempts AS Attempts, failures AS Failures, next_attempt_at AS NextAttemptAt FROM outbox";
}

public sealed class OutboxEntry
{
    public long Id { get; init; }

    public string MessageId { get; init; } = "";

    public string Type { get; init; } = "";

    public string Payload { get; init; } = "";

    /// <summary>Every try so far, outages included; sets the backoff.</summary>
    public int Attempts { get; init; }

    /// <summary>Tries that spent the retry budget: the destination answered and refused.</summary>
    public int Failures { get; init; }

    public long? NextAttemptAt { get; init; }
}
