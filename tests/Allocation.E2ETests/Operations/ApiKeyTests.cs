using System.Net;
using System.Net.Http.Json;
using Allocation.E2ETests.Api;
using Allocation.E2ETests.Support;
using Allocation.Testing;

namespace Allocation.E2ETests.Operations;

/// <summary>
/// API keys (<c>Security:ApiKeys</c>, header <c>X-Api-Key</c>): stock changes and dead letters always need
/// one once keys are configured; reads only with <c>Security:ProtectReads</c>.
/// </summary>
[Category("E2E")]
public class ApiKeyTests
{
    private const string Header = "X-Api-Key";

    private static readonly Dictionary<string, string?> TwoKeys = new()
    {
        ["Security:ApiKeys:0"] = "key-1",
        ["Security:ApiKeys:1"] = "key-2",
    };

    private static readonly Dictionary<string, string?> TwoKeysProtectingReads = new(TwoKeys)
    {
        ["Security:ProtectReads"] = "true",
    };

    [TestCase("/add_batch")]
    [TestCase("/allocate")]
    public async Task AWriteWithoutAKeyIsUnauthorized(string path)
    {
        await using var app = new AllocationApp(settings: TwoKeys);
        using var client = app.CreateClient();

        var response = await client.SendAsync(Write(path, key: null));

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        problem.Message().ShouldContain(Header);
    }

    [TestCase("/add_batch")]
    [TestCase("/allocate")]
    public async Task AWriteWithAWrongKeyIsForbidden(string path)
    {
        await using var app = new AllocationApp(settings: TwoKeys);
        using var client = app.CreateClient();

        var response = await client.SendAsync(Write(path, key: "key-3"));

        await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
    }

    [TestCase(null, HttpStatusCode.Unauthorized)]
    [TestCase("key-3", HttpStatusCode.Forbidden)]
    public async Task AKeyIsCheckedBeforeTheBodyIsRead(string? key, HttpStatusCode refusal)
    {
        await using var app = new AllocationApp(settings: TwoKeys);
        using var client = app.CreateClient();
        using var request = Request(HttpMethod.Post, "/add_batch", key);
        request.Content = new StringContent("""{"ref": 1, "sku": """, System.Text.Encoding.UTF8, "application/json");

        var response = await client.SendAsync(request);

        var problem = await response.ShouldBeProblemAsync(refusal);
        problem.TryGetProperty("errors", out _).ShouldBeFalse(problem.GetRawText());
    }

    [Test]
    public async Task AKeyIsCheckedBeforeTheBodySize()
    {
        await using var app = new AllocationApp(settings: TwoKeys);
        using var client = app.CreateClient();
        using var request = Request(HttpMethod.Post, "/allocate", key: null);
        request.Content = new StringContent($$"""{"orderid": "{{new string('o', 100_000)}}", "sku": "RED-CHAIR", "qty": 1}""", System.Text.Encoding.UTF8, "application/json");

        var response = await client.SendAsync(request);

        await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Test]
    public async Task AKeyIsCheckedBeforeTheQuery()
    {
        await using var app = new AllocationApp(settings: TwoKeys);
        using var client = app.CreateClient();

        var response = await client.GetAsync("/dead-letters?limit=abc");

        await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Test]
    public async Task AnUnauthorizedAnswerNamesTheSchemeAndHeader()
    {
        await using var app = new AllocationApp(settings: TwoKeys);
        using var client = app.CreateClient();

        var response = await client.SendAsync(Write("/allocate", key: null));

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().ShouldBe($"ApiKey header=\"{Header}\"");
    }

    [TestCase("api_key")]
    [TestCase("X-Api-Key")]
    public async Task AKeyInTheQueryStringIsNotAccepted(string name)
    {
        await using var app = new AllocationApp(settings: TwoKeys);
        using var client = app.CreateClient();

        var response = await client.SendAsync(Request(HttpMethod.Get, $"/dead-letters?{name}=key-1", key: null));

        await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Test]
    public async Task AKeySentInTheQueryStringIsNotWrittenToTheLog()
    {
        using var database = new TestDatabase();
        var settings = ServiceProcess.Standalone(database);
        settings["Security:ApiKeys:0"] = "sekrit-key-1";
        settings["Serilog:MinimumLevel:Override:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information";
        await using var service = await ServiceProcess.StartAsync(settings);
        using var client = service.CreateClient();

        var response = await client.GetAsync("/dead-letters?limit=3&api_key=sekrit-key-1&token=sekrit-token");

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var logged = await service.WaitForOutputAsync(line => line.Contains("Request finished", StringComparison.Ordinal) && line.Contains("/dead-letters", StringComparison.Ordinal), "the request's log line");
        logged.ShouldContain("/dead-letters?limit=3&api_key=***&token=***");
        service.Output.ShouldNotContain("sekrit");
    }

    [Test]
    public async Task WritesWithAnAcceptedKeySucceed()
    {
        await using var app = new AllocationApp(settings: TwoKeys);
        using var client = app.CreateClient();

        var added = await client.SendAsync(Write("/add_batch", key: "key-1"));
        var allocated = await client.SendAsync(Write("/allocate", key: "key-1"));

        await added.ShouldBeCreatedAsync();
        (await allocated.ShouldBeAllocatedAsync()).ShouldBe("batch-1");
    }

    [Test]
    public async Task EveryConfiguredKeyIsAccepted()
    {
        await using var app = new AllocationApp(settings: TwoKeys);
        using var client = app.CreateClient();

        var added = await client.SendAsync(Write("/add_batch", key: "key-2"));
        var allocated = await client.SendAsync(Write("/allocate", key: "key-1"));

        await added.ShouldBeCreatedAsync();
        await allocated.ShouldBeAllocatedAsync();
    }

    [TestCase("KEY-1")]
    [TestCase("key-")]
    [TestCase("key-12")]
    public async Task AKeyIsMatchedExactly(string key)
    {
        await using var app = new AllocationApp(settings: TwoKeys);
        using var client = app.CreateClient();

        var response = await client.SendAsync(Write("/add_batch", key));

        await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
    }

    [Test]
    public async Task AnEmptyKeyCountsAsNoKey()
    {
        await using var app = new AllocationApp(settings: TwoKeys);
        using var client = app.CreateClient();

        var response = await client.SendAsync(Write("/add_batch", key: ""));

        await response.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Test]
    public async Task ARefusedWriteChangesNothing()
    {
        await using var app = new AllocationApp(settings: TwoKeys);
        using var client = app.CreateClient();

        (await client.SendAsync(Write("/add_batch", key: null))).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await client.SendAsync(Write("/add_batch", key: "key-3"))).StatusCode.ShouldBe(HttpStatusCode.Forbidden);

        await (await client.GetAsync("/products/RED-CHAIR")).ShouldBeProblemAsync(HttpStatusCode.NotFound);
        (await client.GetStringAsync("/products")).ShouldBe("""{"items":[],"next":null}""");
    }

    [Test]
    public async Task DeadLettersNeedAKey()
    {
        await using var app = new AllocationApp(settings: TwoKeys);
        using var client = app.CreateClient();

        var without = await client.SendAsync(Request(HttpMethod.Get, "/dead-letters", key: null));
        var wrong = await client.SendAsync(Request(HttpMethod.Get, "/dead-letters", key: "key-3"));
        var right = await client.SendAsync(Request(HttpMethod.Get, "/dead-letters", key: "key-2"));

        await without.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        await wrong.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        right.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Test]
    public async Task ReplayingADeadLetterNeedsAKeyBeforeAnythingElse()
    {
        await using var app = new AllocationApp(settings: TwoKeys);
        using var client = app.CreateClient();

        var without = await client.SendAsync(Request(HttpMethod.Post, "/dead-letters/1/replay", key: null));
        var wrong = await client.SendAsync(Request(HttpMethod.Post, "/dead-letters/1/replay", key: "key-3"));
        var right = await client.SendAsync(Request(HttpMethod.Post, "/dead-letters/1/replay", key: "key-1"));

        await without.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        await wrong.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        await right.ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [TestCase("/allocations/order-1")]
    [TestCase("/products")]
    [TestCase("/products/RED-CHAIR")]
    [TestCase("/batches/batch-1")]
    public async Task ReadsAreOpenUnlessProtected(string path)
    {
        await using var app = new AllocationApp(settings: TwoKeys);
        using var client = app.CreateClient();
        await StockWithOneAllocationAsync(client);

        var response = await client.SendAsync(Request(HttpMethod.Get, path, key: null));

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [TestCase("/allocations/order-1")]
    [TestCase("/products")]
    [TestCase("/products/RED-CHAIR")]
    [TestCase("/batches/batch-1")]
    public async Task ProtectedReadsNeedAKey(string path)
    {
        await using var app = new AllocationApp(settings: TwoKeysProtectingReads);
        using var client = app.CreateClient();
        await StockWithOneAllocationAsync(client);

        var without = await client.SendAsync(Request(HttpMethod.Get, path, key: null));
        var wrong = await client.SendAsync(Request(HttpMethod.Get, path, key: "key-3"));
        var right = await client.SendAsync(Request(HttpMethod.Get, path, key: "key-2"));

        await without.ShouldBeProblemAsync(HttpStatusCode.Unauthorized);
        await wrong.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        right.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [TestCase("/health/live")]
    [TestCase("/metrics")]
    [TestCase("/openapi/v1.json")]
    public async Task OperationalRoutesNeedNoKeyEvenWhenReadsAreProtected(string path)
    {
        await using var app = new AllocationApp(settings: TwoKeysProtectingReads);
        using var client = app.CreateClient();

        var response = await client.GetAsync(path);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Test]
    public async Task WithoutKeysEveryRouteIsOpen()
    {
        await using var app = new AllocationApp(settings: new Dictionary<string, string?> { ["Security:ProtectReads"] = "true" });
        using var client = app.CreateClient();

        await (await client.SendAsync(Write("/add_batch", key: null))).ShouldBeCreatedAsync();
        await (await client.SendAsync(Write("/allocate", key: null))).ShouldBeAllocatedAsync();

        (await client.GetAsync("/allocations/order-1")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await client.GetAsync("/products/RED-CHAIR")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await client.GetAsync("/products")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await client.GetAsync("/batches/batch-1")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await client.GetAsync("/dead-letters")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private static async Task StockWithOneAllocationAsync(HttpClient client)
    {
        await (await client.SendAsync(Write("/add_batch", key: "key-1"))).ShouldBeCreatedAsync();
        await (await client.SendAsync(Write("/allocate", key: "key-1"))).ShouldBeAllocatedAsync();
    }

    private static HttpRequestMessage Write(string path, string? key)
    {
        var request = Request(HttpMethod.Post, path, key);
        request.Content = path == "/add_batch"
            ? JsonContent.Create(new Dictionary<string, object?> { ["ref"] = "batch-1", ["sku"] = "RED-CHAIR", ["qty"] = 10, ["eta"] = null })
            : JsonContent.Create(new Dictionary<string, object?> { ["orderid"] = "order-1", ["sku"] = "RED-CHAIR", ["qty"] = 2 });
        return request;
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, string? key)
    {
        var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation(Header, key);
        }

        return request;
    }
}
