using Allocation.Testing;

namespace Allocation.IntegrationTests.Support;

/// <summary>A fresh database file for each test, deleted after it.</summary>
public abstract class DatabaseFixture
{
    protected TestDatabase Database { get; private set; } = null!;

    [SetUp]
    public void CreateDatabase() => Database = new TestDatabase();

    [TearDown]
    public void DeleteDatabase() => Database.Dispose();
}

/// <summary>A fresh database file for each test with one migrated service instance over it.</summary>
public abstract class ServiceFixture : DatabaseFixture
{
    private protected ServiceInstance Instance { get; private set; } = null!;

    [SetUp]
    public void StartInstance() => Instance = ServiceInstance.Create(Database.ConnectionString);

    [TearDown]
    public async Task StopInstance() => await Instance.DisposeAsync();
}
