using System.Text;
using Allocation.E2ETests.Support;
using Allocation.Testing;

namespace Allocation.E2ETests.Operations;

/// <summary>Headers on every answer, as real Kestrel sends them: nothing to sniff, nothing to cache, no server banner.</summary>
[Category("E2E")]
public class ResponseHeaderTests
{
    private static readonly Dictionary<string, Func<HttpClient, Task<HttpResponseMessage>>> Requests = new(StringComparer.Ordinal)
    {
        ["a read"] = client => client.GetAsync("/products"),
        ["a write"] = client => client.AddBatchAsync($"headers-{Guid.NewGuid():N}", "HEADERS", 1),
        ["a refusal"] = client => client.AllocateAsync("order-1", "UNKNOWN-SKU", 1),
        ["an unknown route"] = client => client.GetAsync("/nowhere"),
        ["a body too large"] = client => client.PostAsync("/allocate", new StringContent(new string(' ', 200_000), Encoding.UTF8, "application/json")),
        ["health"] = client => client.GetAsync("/health/live"),
        ["the OpenAPI document"] = client => client.GetAsync("/openapi/v1.json"),
    };

    private ServiceProcess _service = null!;
    private HttpClient _client = null!;
    private TestDatabase _database = null!;

    [OneTimeSetUp]
    public async Task StartService()
    {
        _database = new TestDatabase();
        _service = await ServiceProcess.StartAsync(ServiceProcess.Standalone(_database));
        _client = _service.CreateClient();
    }

    [OneTimeTearDown]
    public async Task StopService()
    {
        _client.Dispose();
        await _service.DisposeAsync();
        _database.Dispose();
    }

    [TestCaseSource(nameof(Answers))]
    public async Task EveryAnswerForbidsSniffingAndCachingAndNamesNoServer(string request)
    {
        using var response = await Requests[request](_client);

        response.Headers.GetValues("X-Content-Type-Options").ShouldBe(["nosniff"]);
        response.Headers.CacheControl?.NoStore.ShouldBe(true);
        response.Headers.Contains("Server").ShouldBeFalse();
    }

    private static IEnumerable<string> Answers() => Requests.Keys;
}
