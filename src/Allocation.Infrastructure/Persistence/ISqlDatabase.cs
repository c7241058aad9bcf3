using System.Data.Common;

namespace Allocation.Infrastructure.Persistence;

/// <summary>
/// What differs between the two databases, in one place: how connections open, how a write transaction
/// begins, how a product is kept from other instances while a transaction uses it, what an error
/// means, and how the schema is migrated. Everything else in <c>Persistence/</c> is shared SQL.
/// </summary>
public interface ISqlDatabase
{
    /// <summary>Where the data is, for logs and health, without secrets.</summary>
    string Description { get; }

    /// <summary>
    /// "Is one of the list in <paramref name="parameter"/>", whose value is <see cref="ListOf{T}"/>: SQLite
    /// reads a JSON array (<c>IN (SELECT value FROM json_each(...))</c>), PostgreSQL an array
    /// (<c>= ANY(...)</c>). Either way the statement's text does not depend on the list's length, so it
    /// is prepared once.
    /// </summary>
    string IsAnyOf(string parameter);

    /// <summary>The value of a list parameter for <see cref="IsAnyOf"/>.</summary>
    object ListOf<T>(IEnumerable<T> values);

    /// <summary>
    /// The statement that starts a write transaction. One that is not <paramref name="durable"/> commits
    /// without waiting for the disk: a power cut (SQLite) or a server crash (PostgreSQL) may undo it, never
    /// half of it, and never a durable commit after it.
    /// </summary>
    string BeginWrite(bool durable);

    /// <summary>
    /// The statement that starts a write of the service's own records in a transaction of its own, apart
    /// from the writer (<see cref="ManyWriters"/>): as <see cref="BeginWrite"/>, and on PostgreSQL each
    /// statement planned for the values it is given and the table as it is now. Those statements (the
    /// outbox's marks above all) run on tables that grow from nothing, and a plan cached while a table was
    /// nearly empty would go on scanning all of it until the server next analyses it.
    /// </summary>
    string BeginWriteApart(bool durable);

    /// <summary>
    /// Whether the database takes writes from many connections at once (PostgreSQL), so that a write that
    /// touches no product need not queue on the writer; SQLite has one writer per file.
    /// </summary>
    bool ManyWriters { get; }

    /// <summary>The writer's connection, open, with its session settings.</summary>
    DbConnection OpenWriter();

    /// <summary>A connection for reads of committed data; reads never wait for the writer.</summary>
    ValueTask<DbConnection> OpenReaderAsync(CancellationToken cancellationToken);

    /// <summary>The same, for background readers (the outbox, metrics) that are not on a request's path.</summary>
    DbConnection OpenReader();

    /// <summary>
    /// A reader connection that one loop keeps open for the same few queries over and over (an outbox
    /// lane's): where the driver does not keep prepared statements by itself, it does so.
    /// </summary>
    DbConnection OpenKeptReader();

    /// <summary>
    /// Keeps other instances off the product until the transaction ends. With <paramref name="wait"/>
    /// false, answers false at once when another instance has it, rather than wait (and perhaps deadlock).
    /// </summary>
    bool LockProduct(DbConnection connection, string sku, bool wait);

    /// <summary>
    /// A statement that locks every product of the list parameter, in its order, waiting as long as it
    /// takes (a group's first locks), and answers one row; null where a write transaction needs no locks.
    /// </summary>
    string? LockProductsStatement(string parameter);

    /// <summary>
    /// Whether a commit group's changes are written together at its end (<see cref="WriteGroup"/>) rather
    /// than row by row as each unit commits: on a server, each statement costs a round trip and server work.
    /// </summary>
    bool WritesAtGroupEnd { get; }

    /// <summary>
    /// Writes the changes of a whole group, in order, in a few statements, and commits with
    /// <paramref name="commit"/> in the same round trip: nothing is committed if any of them fails.
    /// </summary>
    /// <exception cref="Application.Ports.ConcurrencyException">A product moved on since the group read it; a server raises it as the <see cref="DbException"/> that <see cref="Translate"/> makes one.</exception>
    void WriteGroup(DbConnection connection, IReadOnlyList<ChangeSet> changes, string commit);

    /// <summary>The statements that commit a write transaction, which may have written outbox entries.</summary>
    string CommitStatement(bool wroteOutbox);

    /// <summary>
    /// <see cref="Application.Ports.ConcurrencyException"/> for another writer that got there first,
    /// <see cref="Application.Ports.UnavailableException"/> for a database that cannot take writes or
    /// cannot be reached; anything else as it is.
    /// </summary>
    Exception Translate(DbException exception);

    /// <summary>Creates what is missing and applies every migration not yet applied, in order.</summary>
    void Migrate();

    /// <summary>
    /// Tries to become the one instance that dispatches the outbox and consumes pub/sub messages;
    /// null while another instance is. The lease holds until disposed or lost (its token is cancelled).
    /// </summary>
    ValueTask<ILeadership?> TryLeadAsync(CancellationToken cancellationToken);
}

/// <summary>Reads of committed data, with the database's errors told in the service's terms.</summary>
public static class DatabaseReads
{
    public static async ValueTask<T> ReadAsync<T>(this ISqlDatabase database, Func<DbConnection, Task<T>> query, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await database.OpenReaderAsync(cancellationToken);
            return await query(connection);
        }
        catch (DbException exception)
        {
            throw database.Translate(exception);
        }
    }

    public static T Read<T>(this ISqlDatabase database, Func<DbConnection, T> query)
    {
        try
        {
            using var connection = database.OpenReader();
            return query(connection);
        }
        catch (DbException exception)
        {
            throw database.Translate(exception);
        }
    }
}

/// <summary>Leadership held by this instance; <see cref="Lost"/> is cancelled if it ends by itself.</summary>
public interface ILeadership : IAsyncDisposable
{
    CancellationToken Lost { get; }
}
