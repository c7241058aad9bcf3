using System.ComponentModel.DataAnnotations;

namespace Allocation.Infrastructure.Persistence;

/// <summary>Configuration section <c>Database</c>; the connection string is <c>ConnectionStrings:Allocation</c>.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary><c>Sqlite</c> (one file, one instance, nothing to install) or <c>Postgres</c> (any number of instances).</summary>
    [EnumDataType(typeof(DatabaseProvider), ErrorMessage = "Database:Provider must be Sqlite or Postgres.")]
    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>Set from <c>ConnectionStrings:Allocation</c>: a SQLite connection string, or Npgsql's format for PostgreSQL.</summary>
    [Required(ErrorMessage = "ConnectionStrings:Allocation must name the database, e.g. \"Data Source=data/allocation.db\" for SQLite.")]
    public string ConnectionString { get; set; } = "";

    /// <summary>Most units of work committed by one transaction (one fsync); 1 gives a transaction per unit.</summary>
    [Range(1, 10_000)]
    public int MaxGroupCommit { get; set; } = 256;
}

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}
