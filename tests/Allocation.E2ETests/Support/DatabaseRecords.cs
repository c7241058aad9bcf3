using Allocation.Testing;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Allocation.E2ETests.Support;

/// <summary>What the service stored, read straight from its SQLite file.</summary>
public static class DatabaseRecords
{
    public static IReadOnlyList<DeadLetter> DeadLetters(this TestDatabase database)
    {
        using var connection = Open(database);
        return connection.Query<DeadLetter>("SELECT source AS Source, payload AS Payload, payload_encoding AS Encoding, truncated AS Truncated, error AS Error, message_id AS MessageId FROM dead_letters ORDER BY id").AsList();
    }

    public static IReadOnlyList<OutboxRow> Outbox(this TestDatabase database, string type)
    {
        using var connection = Open(database);
        return connection.Query<OutboxRow>(
            "SELECT message_id AS MessageId, payload AS Payload, dispatched_at IS NOT NULL AS Dispatched FROM outbox WHERE type = @type ORDER BY id",
            new { type }).AsList();
    }

    // Not pooled: a pooled handle would keep the file open after the test deletes it.
    private static SqliteConnection Open(TestDatabase database)
    {
        var connection = new SqliteConnection($"Data Source={database.FilePath};Pooling=False");
        connection.Open();
        return connection;
    }
}

public sealed record DeadLetter
{
    public string Source { get; init; } = "";

    public string Payload { get; init; } = "";

    /// <summary><c>utf-8</c>, or <c>base64</c> for bytes that are not.</summary>
    public string Encoding { get; init; } = "";

    /// <summary>Only the start of the payload was kept.</summary>
    public bool Truncated { get; init; }

    public string Error { get; init; } = "";

    /// <summary>An outbound event's message id, or the id of a refused stream entry.</summary>
    public string? MessageId { get; init; }

    /// <summary>The payload's bytes, as they were received (their start, when <see cref="Truncated"/>).</summary>
    public byte[] Bytes => Encoding == "base64" ? Convert.FromBase64String(Payload) : System.Text.Encoding.UTF8.GetBytes(Payload);
}

public sealed record OutboxRow
{
    public string MessageId { get; init; } = "";

    public string Payload { get; init; } = "";

    public bool Dispatched { get; init; }
}
