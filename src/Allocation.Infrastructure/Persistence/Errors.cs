using Allocation.Application.Ports;
using Microsoft.Data.Sqlite;

namespace Allocation.Infrastructure.Persistence;

internal static class Errors
{
    private const int Busy = 5;
    private const int Locked = 6;
    private const int ConstraintPrimaryKey = 1555;
    private const int ConstraintUnique = 2067;

    /// <summary>
    /// Errors that mean another writer got there first become <see cref="ConcurrencyException"/>, which
    /// retries the whole command against fresh data; others stay as they are.
    /// </summary>
    public static Exception Translate(SqliteException exception) => exception switch
    {
        { SqliteErrorCode: Busy or Locked } =>
            new ConcurrencyException("The database is locked by another writer.", exception),
        { SqliteExtendedErrorCode: ConstraintUnique or ConstraintPrimaryKey } =>
            new ConcurrencyException("Another writer stored the same key first.", exception),
        _ => exception,
    };
}
