using System.Data.Common;
using Dapper;

namespace Allocation.Infrastructure.Persistence;

/// <summary>The outbox table's queries. Reads use reader connections; changes run inside a writer unit.</summary>
public sealed class OutboxStore(ISqlDatabase database)
{
    /// <summary>Reads a lane's pending entries on a connection of its own, kept open while the lane runs.</summary>
    public LaneReader ReaderOf(IReadOnlyList<string> types) => new(database, types);

    /// <summary>Undispatched entries whose type is none of <paramref name="known"/>.</summary>
    public IReadOnlyList<OutboxEntry> PendingOfOtherTypes(IEnumerable<string> known) =>
        database.Read(connection => connection.Query<OutboxEntry>(
            $"{Select} WHERE dispatched_at IS NULL AND NOT (type {database.IsAnyOf("@known")}) ORDER BY id", new { known = database.ListOf(known) }).AsList());

    /// <summary>How many entries wait, and since when the oldest of them (Unix ms), for health and metrics.</summary>
    public (long Count, long? OldestCreatedAt) Backlog() =>
        database.Read(connection => connection.QuerySingle<(long, long?)>("SELECT count(*), min(created_at) FROM outbox WHERE dispatched_at IS NULL"));

    /// <summary>Marks the entries sent, in one statement however many they are.</summary>
    internal void MarkDispatched(DbConnection connection, IReadOnlyCollection<long> ids, long now)
    {
        if (ids.Count > 0)
        {
            connection.Execute($"UPDATE outbox SET dispatched_at = @now WHERE id {database.IsAnyOf("@ids")}", new { ids = database.ListOf(ids), now });
        }
    }

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

    internal const string Select =
        "SELECT id AS Id, message_id AS MessageId, type AS Type, payload AS Payload, attempts AS Attempts, failures AS Failures, next_attempt_at AS NextAttemptAt FROM outbox";
}

/// <summary>
/// One lane's reads of its oldest pending entries: the lane reads after every commit of its types, so
/// the connection and its prepared statement are kept rather than taken from the pool each time. A
/// connection that failed is thrown away and the next read opens another.
/// </summary>
public sealed class LaneReader(ISqlDatabase database, IReadOnlyList<string> types) : IDisposable
{
    private readonly string _sql = $"{OutboxStore.Select} WHERE type {database.IsAnyOf("@types")} AND dispatched_at IS NULL ORDER BY id LIMIT @limit";
    private readonly object _types = database.ListOf(types);
    private DbConnection? _connection;

    /// <summary>The oldest undispatched entries of the lane's event types, in commit order.</summary>
    public IReadOnlyList<OutboxEntry> Pending(int limit)
    {
        try
        {
            _connection ??= database.OpenKeptReader();
            return _connection.Query<OutboxEntry>(_sql, new { types = _types, limit }).AsList();
        }
        catch (DbException exception)
        {
            Dispose();
            throw database.Translate(exception);
        }
    }

    public void Dispose()
    {
        _connection?.Dispose();
        _connection = null;
    }
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
