namespace Allocation.IntegrationTests.Support;

/// <summary>A fresh database for each test, on the fixture's provider, deleted after it.</summary>
public abstract class DatabaseFixture(string provider = Providers.Sqlite)
{
    protected string Provider { get; } = provider;

    private protected TestStore Database { get; private set; } = null!;

    [SetUp]
    public async Task CreateDatabase() => Database = await TestStore.CreateAsync(Provider);

    [TearDown]
    public async Task DeleteDatabase()
    {
        if (Database is not null)
        {
            await Database.DisposeAsync();
        }
    }

    /// <summary>One service instance over the test's database, composed as the host composes it.</summary>
    private protected ServiceInstance CreateInstance(
        IDictionary<string, string?>? settings = null, Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? replace = null, bool migrate = true) =>
        ServiceInstance.Create(Database.ConnectionString, Provider, settings, replace, migrate);
}

/// <summary>A fresh database for each test with one migrated service instance over it.</summary>
public abstract class ServiceFixture(string provider = Providers.Sqlite) : DatabaseFixture(provider)
{
    private protected ServiceInstance Instance { get; private set; } = null!;

    [SetUp]
    public void StartInstance() => Instance = CreateInstance();

    [TearDown]
    public async Task StopInstance()
    {
        if (Instance is not null)
        {
            await Instance.DisposeAsync();
        }
    }
}
