using Allocation.E2ETests.Support;

namespace Allocation.E2ETests.Api;

/// <summary>
/// The service in-process on a fresh database for each test, a client to call it, and the database file to
/// look at what it committed.
/// </summary>
public abstract class ApiFixture
{
    protected AllocationApp App { get; private set; } = null!;

    protected HttpClient Client { get; private set; } = null!;

    private protected Store Store { get; private set; } = null!;

    /// <summary>The Redis the service connects to; none by default, so events wait in the outbox.</summary>
    protected virtual string? Redis => null;

    [SetUp]
    public void StartService()
    {
        App = new AllocationApp(Redis);
        Client = App.CreateClient();
        Store = new Store(App.Database.FilePath);
    }

    [TearDown]
    public async Task StopService()
    {
        Client.Dispose();
        await App.DisposeAsync();
    }
}
