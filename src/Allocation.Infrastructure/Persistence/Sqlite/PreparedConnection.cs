using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Data.Sqlite;

namespace Allocation.Infrastructure.Persistence.Sqlite;

/// <summary>
/// A connection one loop keeps (the writer's, an outbox lane's) as Dapper sees it: every command text is
/// compiled by SQLite once and its prepared statement reused, with fresh parameters, by every later
/// command with that text. Microsoft.Data.Sqlite keeps a statement only as long as its command, and
/// Dapper makes a command per call, so without this every call would parse and plan its SQL again. Only
/// its loop's one thread of control uses the connection, so the cache needs no locking.
/// </summary>
[SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities", Justification = "Command texts are the repositories' constant SQL; values are always parameters.")]
internal sealed class PreparedConnection(SqliteConnection inner) : DbConnection
{
    private readonly Dictionary<string, Stack<SqliteCommand>> _statements = new(StringComparer.Ordinal);

    [AllowNull]
    public override string ConnectionString
    {
        get => inner.ConnectionString;
        set => inner.ConnectionString = value;
    }

    public override string Database => inner.Database;

    public override string DataSource => inner.DataSource;

    public override string ServerVersion => inner.ServerVersion;

    public override ConnectionState State => inner.State;

    public override void ChangeDatabase(string databaseName) => inner.ChangeDatabase(databaseName);

    public override void Close() => inner.Close();

    public override void Open() => inner.Open();

    internal SqliteCommand Rent(string sql)
    {
        if (_statements.TryGetValue(sql, out var free) && free.TryPop(out var command))
        {
            command.Parameters.Clear();
            return command;
        }

        command = inner.CreateCommand();
        command.CommandText = sql;
        return command;
    }

    internal void Return(SqliteCommand command)
    {
        if (!_statements.TryGetValue(command.CommandText, out var free))
        {
            _statements[command.CommandText] = free = new Stack<SqliteCommand>(1);
        }

        free.Push(command);
    }

    protected override DbTransaction BeginDbTransaction(IsolationLevel isolationLevel) =>
        throw new NotSupportedException("The writer manages its transactions with BEGIN/SAVEPOINT statements.");

    protected override DbCommand CreateDbCommand() => new PreparedCommand(this);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var command in _statements.Values.SelectMany(free => free))
            {
                command.Dispose();
            }

            _statements.Clear();
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>A command that borrows the cached statement for its text and gives it back when disposed.</summary>
    private sealed class PreparedCommand(PreparedConnection connection) : DbCommand
    {
        private SqliteCommand? _statement;

        [AllowNull]
        public override string CommandText
        {
            get => _statement?.CommandText ?? "";
            set
            {
                // Dapper rewrites the text after adding parameters (to spread a list): they move along.
                var previous = _statement;
                _statement = connection.Rent(value ?? "");
                if (previous is not null)
                {
                    foreach (var parameter in previous.Parameters.Cast<SqliteParameter>().ToList())
                    {
                        previous.Parameters.Remove(parameter);
                        _statement.Parameters.Add(parameter);
                    }

                    connection.Return(previous);
                }
            }
        }

        public override int CommandTimeout { get; set; }

        public override CommandType CommandType { get; set; } = CommandType.Text;

        public override bool DesignTimeVisible { get; set; }

        public override UpdateRowSource UpdatedRowSource { get; set; }

        protected override DbConnection? DbConnection
        {
            get => connection;
            set => throw new NotSupportedException();
        }

        protected override DbParameterCollection DbParameterCollection => Statement.Parameters;

        protected override DbTransaction? DbTransaction { get; set; }

        private SqliteCommand Statement => _statement ?? throw new InvalidOperationException("Set CommandText first.");

        public override void Cancel() => Statement.Cancel();

        public override int ExecuteNonQuery() => Statement.ExecuteNonQuery();

        public override object? ExecuteScalar() => Statement.ExecuteScalar();

        public override void Prepare() => Statement.Prepare();

        protected override DbParameter CreateDbParameter() => new SqliteParameter();

        protected override DbDataReader ExecuteDbDataReader(CommandBehavior behavior) =>
            Statement.ExecuteReader(behavior & ~CommandBehavior.CloseConnection);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Release();
            }

            base.Dispose(disposing);
        }

        private void Release()
        {
            if (_statement is { } statement)
            {
                _statement = null;
                connection.Return(statement);
            }
        }
    }
}
