using Allocation.Infrastructure.Persistence;
using Allocation.IntegrationTests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Allocation.IntegrationTests;

public class MigrationTests : DatabaseFixture
{
    [Test]
    public async Task MigratingAFreshFileCreatesEveryTableAndTheReadModelView()
    {
        await using var instance = ServiceInstance.Create(Database.ConnectionString, migrate: false);

        instance.Services.GetRequiredService<SqliteDatabase>().Migrate();

        var objects = Database.Query<(string Type, string Name)>(
            "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'");
        objects.Where(item => item.Type == "table").Select(item => item.Name)
            .ShouldBe(["products", "batches", "allocations", "outbox", "dead_letters", "SchemaVersions"], ignoreOrder: true);
        objects.Where(item => item.Type == "view").Select(item => item.Name).ShouldBe(["allocations_view"]);
    }

    [Test]
    public async Task MigratingPutsTheFileInWriteAheadLogMode()
    {
        await using var instance = ServiceInstance.Create(Database.ConnectionString, migrate: false);

        instance.Services.GetRequiredService<SqliteDatabase>().Migrate();

        Database.Scalar<string>("PRAGMA journal_mode").ShouldBe("wal");
    }

    [Test]
    public async Task MigratingTwiceIsHarmlessAndKeepsTheData()
    {
        await using var instance = ServiceInstance.Create(Database.ConnectionString);
        Database.Execute("INSERT INTO products (sku, version_number) VALUES ('RED-CHAIR', 3)");

        instance.Services.GetRequiredService<SqliteDatabase>().Migrate();

        Database.Query<(string, int)>("SELECT sku, version_number FROM products").ShouldBe([("RED-CHAIR", 3)]);
    }

    [Test]
    public async Task EveryScriptIsRecordedOnceInSchemaVersionsHoweverOftenMigrationRuns()
    {
        var scripts = typeof(SqliteDatabase).Assembly.GetManifestResourceNames()
            .Where(name => name.Contains(".Persistence.Migrations.", StringComparison.Ordinal) && name.EndsWith(".sql", StringComparison.Ordinal))
            .ToList();
        await using var instance = ServiceInstance.Create(Database.ConnectionString);

        instance.Services.GetRequiredService<SqliteDatabase>().Migrate();
        instance.Services.GetRequiredService<SqliteDatabase>().Migrate();

        scripts.ShouldNotBeEmpty();
        Database.Query<string>("SELECT ScriptName FROM SchemaVersions").ShouldBe(scripts, ignoreOrder: true);
    }

    [Test]
    public async Task MigratingCreatesTheMissingFoldersOfAnAbsolutePath()
    {
        var path = Path.Combine(Database.Folder, "data", "nested", "allocation.db");
        await using var instance = ServiceInstance.Create($"Data Source={path}", migrate: false);

        instance.Services.GetRequiredService<SqliteDatabase>().Migrate();

        File.Exists(path).ShouldBeTrue();
    }

    // The working directory is process-wide: this test changes it only while nothing else runs.
    [Test]
    [NonParallelizable]
    public async Task MigratingCreatesTheDataFolderOfARelativePathUnderTheWorkingDirectory()
    {
        var previous = Environment.CurrentDirectory;
        Environment.CurrentDirectory = Database.Folder;
        try
        {
            await using var instance = ServiceInstance.Create("Data Source=data/allocation.db", migrate: false);

            instance.Services.GetRequiredService<SqliteDatabase>().Migrate();

            File.Exists(Path.Combine(Database.Folder, "data", "allocation.db")).ShouldBeTrue();
        }
        finally
        {
            Environment.CurrentDirectory = previous;
        }
    }
}
