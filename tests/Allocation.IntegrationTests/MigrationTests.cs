using Allocation.Infrastructure.Persistence;
using Allocation.IntegrationTests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;

namespace Allocation.IntegrationTests;

public class MigrationTests : DatabaseFixture
{
    [Test]
    public async Task MigratingAFreshFileCreatesEveryTableAndTheReadModelView()
    {
        await using var instance = ServiceInstance.Create(Database.ConnectionString, migrate: false);

        instance.Services.GetRequiredService<ISqlDatabase>().Migrate();

        var objects = Database.Query<(string Type, string Name)>(
            "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'");
        objects.Where(item => item.Type == "table").Select(item => item.Name)
            .ShouldBe(["products", "batches", "allocations", "outbox", "dead_letters", "heartbeats", "SchemaVersions"], ignoreOrder: true);
        objects.Where(item => item.Type == "view").Select(item => item.Name).ShouldBe(["allocations_view"]);
    }

    [Test]
    public async Task MigratingPutsTheFileInWriteAheadLogMode()
    {
        await using var instance = ServiceInstance.Create(Database.ConnectionString, migrate: false);

        instance.Services.GetRequiredService<ISqlDatabase>().Migrate();

        Database.Scalar<string>("PRAGMA journal_mode").ShouldBe("wal");
    }

    [Test]
    public async Task MigratingTwiceIsHarmlessAndKeepsTheData()
    {
        await using var instance = ServiceInstance.Create(Database.ConnectionString);
        Database.Execute("INSERT INTO products (sku, version_number) VALUES ('RED-CHAIR', 3)");

        instance.Services.GetRequiredService<ISqlDatabase>().Migrate();

        Database.Query<(string, int)>("SELECT sku, version_number FROM products").ShouldBe([("RED-CHAIR", 3)]);
    }

    [Test]
    public async Task EveryScriptIsRecordedOnceInSchemaVersionsHoweverOftenMigrationRuns()
    {
        var scripts = typeof(ISqlDatabase).Assembly.GetManifestResourceNames()
            .Where(name => name.Contains(".Persistence.Migrations.", StringComparison.Ordinal) && name.EndsWith(".sql", StringComparison.Ordinal))
            .ToList();
        await using var instance = ServiceInstance.Create(Database.ConnectionString);

        instance.Services.GetRequiredService<ISqlDatabase>().Migrate();
        instance.Services.GetRequiredService<ISqlDatabase>().Migrate();

        scripts.ShouldNotBeEmpty();
        Database.Query<string>("SELECT ScriptName FROM SchemaVersions").ShouldBe(scripts, ignoreOrder: true);
    }

    [Test]
    public async Task MigratingCreatesTheMissingFoldersOfAnAbsolutePath()
    {
        var path = Path.Combine(Database.Folder, "data", "nested", "allocation.db");
        await using var instance = ServiceInstance.Create($"Data Source={path}", migrate: false);

        instance.Services.GetRequiredService<ISqlDatabase>().Migrate();

        File.Exists(path).ShouldBeTrue();
    }

    [Test]
    public async Task ARelativePathIsUnderTheServicesOwnFolderWhateverTheWorkingDirectory()
    {
        await using var instance = ServiceInstance.Create(
            "Data Source=data/allocation.db",
            migrate: false,
            replace: services => services.AddSingleton<IHostEnvironment>(new HostingEnvironment { ContentRootPath = Database.Folder }));

        instance.Services.GetRequiredService<ISqlDatabase>().Migrate();

        File.Exists(Path.Combine(Database.Folder, "data", "allocation.db")).ShouldBeTrue();
    }
}
