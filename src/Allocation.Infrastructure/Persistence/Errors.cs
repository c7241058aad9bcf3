using Allocation.Application.Ports;
using Microsoft.Data.Sqlite;

namespace Allocation.Infrastructure.Persistence;

internal static class Errors
{
    private const int ReadOnly = 8;
    private const int IoError = 10;
    private const int Full = 13;
    private const int CannotOpen = 14;
    private const int Busy = 5;
    private const int Locked = 6;
    private const int ConstraintPrimaryKey = 1555;
    private const int ConstraintUnique = 2067;

    /// <summary>
    /// Errors that mean another writer got there first become <see cref="ConcurrencyException"/>, which
    /// retries the whole command against fresh data; a database that cannot take writes at all (disk
    /// full, I/O error, read-only or missing file) becomes <see cref="UnavailableException"/>, answered
    /// 503; others stay as they are.
    /// </summary>
    public static Exception Translate(SqliteException exception) => exception switch
    {
        { SqliteErrorCode: Busy or Locked } =>
            new ConcurrencyException("The database is locked by another writer.", exception),
        { SqliteExtendedErrorCode: ConstraintUnique or ConstraintPrimaryKey } =>
            new ConcurrencyException("Another writer stored the same key first.", exception),
        { SqliteErrorCode: Full } =>
            new UnavailableException("The database cannot take writes: its disk is full.", exception),
        { SqliteErrorCode: IoError or ReadOnly or CannotOpen } =>
            new UnavailableException($"The database cannot take writes: {exception.Message}", exception),
        _ => exception,
    };
}
