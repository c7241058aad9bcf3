using Allocation.Infrastructure.Persistence;
using Allocation.IntegrationTests.Support;
using Allocation.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;

namespace Allocation.IntegrationTests;

[TestFixtureSource(typeof(Providers), nameof(Providers.All))]
public class MigrationTests(string provider) : DatabaseFixture(provider)
{
    [Test]
    public async Task MigratingAFreshDatabaseCreatesEveryTableAndTheReadModelView()
    {
        await using var instance = CreateInstance(migrate: false);

        instance.Services.GetRequiredService<ISqlDatabase>().Migrate();

        var objects = Database.Query<(string Type, string Name)>(Provider == Providers.Sqlite
            ? "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'"
            : "SELECT CASE table_type WHEN 'VIEW' THEN 'view' ELSE 'table' END, table_name FROM information_schema.tables WHERE table_schema = 'public'");
        objects.Where(item => item.Type == "table").Select(item => item.Name.ToLowerInvariant())
            .ShouldBe(["products", "batches", "allocations", "outbox", "dead_letters", "heartbeats", "schemaversions"], ignoreOrder: true);
        objects.Where(item => item.Type == "view").Select(item => item.Name).ShouldBe(["allocations_view"]);
    }

    [Test]
    public async Task MigratingTwiceIsHarmlessAndKeepsTheData()
    {
        await using var instance = CreateInstance();
        Database.Execute("INSERT INTO products (sku, version_number) VALUES ('RED-CHAIR', 3)");

        instance.Services.GetRequiredService<ISqlDatabase>().Migrate();

        Database.Query<(string, int)>("SELECT sku, version_number FROM products").ShouldBe([("RED-CHAIR", 3)]);
    }

    [Test]
    public async Task EveryScriptIsRecordedOnceInSchemaVersionsHoweverOftenMigrationRuns()
    {
        var folder = Provider == Providers.Sqlite ? ".Persistence.Migrations." : ".Persistence.Postgres.";
        var scripts = typeof(ISqlDatabase).Assembly.GetManifestResourceNames()
            .Where(name => name.Contains(folder, StringComparison.Ordinal) && name.EndsWith(".sql", StringComparison.Ordinal))
            .ToList();
        await using var instance = CreateInstance();

        instance.Services.GetRequiredService<ISqlDatabase>().Migrate();
        instance.Services.GetRequiredService<ISqlDatabase>().Migrate();

        scripts.ShouldNotBeEmpty();
        Database.Query<string>("SELECT scriptname FROM schemaversions").ShouldBe(scripts, ignoreOrder: true);
    }
}

/// <summary>What only the SQLite file has: its journal mode, and where a path puts it.</summary>
public class SqliteFileTests
{
    private TestDatabase _file = null!;

    [SetUp]
    public void CreateFolder() => _file = new TestDatabase();

    [TearDown]
    public void DeleteFolder() => _file.Dispose();

    [Test]
    public async Task MigratingPutsTheFileInWriteAheadLogMode()
    {
        await using var instance = ServiceInstance.Create(_file.ConnectionString, migrate: false);

        instance.Services.GetRequiredService<ISqlDatabase>().Migrate();

        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_file.FilePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        command.ExecuteScalar().ShouldBe("wal");
    }

    [Test]
    public async Task MigratingCreatesTheMissingFoldersOfAnAbsolutePath()
    {
        var path = Path.Combine(_file.Folder, "data", "nested", "allocation.db");
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
            replace: services => services.AddSingleton<IHostEnvironment>(new HostingEnvironment { ContentRootPath = _file.Folder }));

        instance.Services.GetRequiredService<ISqlDatabase>().Migrate();

        File.Exists(Path.Combine(_file.Folder, "data", "allocation.db")).ShouldBeTrue();
    }
}
