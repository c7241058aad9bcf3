using System.Reflection;
using DbUp.Builder;
using Microsoft.Extensions.Logging;

namespace Allocation.Infrastructure.Persistence;

/// <summary>
/// Applies a database's versioned scripts (embedded resources whose names hold <paramref name="folder"/>)
/// with DbUp, each in a transaction of its own, in name order, once each.
/// </summary>
internal static partial class Migrations
{
    public static void Apply(UpgradeEngineBuilder target, string folder, string database, ILogger logger)
    {
        var upgrade = target
            .WithScriptsEmbeddedInAssembly(Assembly.GetExecutingAssembly(), name => name.Contains(folder, StringComparison.Ordinal))
            .WithTransactionPerScript()
            .LogToNowhere()
            .Build();
        var pending = upgrade.GetScriptsToExecute();
        var result = upgrade.PerformUpgrade();
        if (!result.Successful)
        {
            throw new InvalidOperationException($"Migrating {database} failed at {result.ErrorScript?.Name}: {result.Error.Message}", result.Error);
        }

        LogMigrated(logger, database, pending.Count, string.Join(", ", pending.Select(script => script.Name)));
    }

    [LoggerMessage(LogLevel.Information, "Database {Database} is up to date ({Applied} migrations applied now: {Scripts})")]
    private static partial void LogMigrated(ILogger logger, string database, int applied, string scripts);
}
