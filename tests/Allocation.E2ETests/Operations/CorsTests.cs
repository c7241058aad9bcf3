using System.Net;
using System.Net.Http.Json;
using Allocation.E2ETests.Api;
using Allocation.E2ETests.Support;
using Allocation.Testing;

namespace Allocation.E2ETests.Operations;

/// <summary>
/// CORS for the warehouse UI (<c>Cors:AllowedOrigins</c>): listed origins may call the API from a browser,
/// with a preflight for its methods and headers; any other origin gets no CORS headers; none listed, no CORS.
/// </summary>
[Category("E2E")]
public class CorsTests
{
    private const string Listed = "https://warehouse.example.com";
    private const string Unlisted = "https://elsewhere.example.com";
    private const string ApiKeyHeader = "X-Api-Key";

    private static readonly Dictionary<string, string?> OneOrigin = new()
    {
        ["Cors:AllowedOrigins:0"] = Listed,
        ["Cors:AllowedOrigins:1"] = "http://localhost:3000",
        ["Security:ApiKeys:0"] = "key-1",
    };

    [TestCase("/allocate", "POST")]
    [TestCase("/add_batch", "POST")]
    [TestCase("/products/RED-CHAIR", "GET")]
    public async Task APreflightFromAListedOriginIsAllowedTheApisMethodsAndHeaders(string path, string method)
    {
        await using var app = new AllocationApp(settings: OneOrigin);
        using var client = app.CreateClient();

        var response = await client.SendAsync(Preflight(path, Listed, method));

        response.IsSuccessStatusCode.ShouldBeTrue();
        Header(response, "Access-Control-Allow-Origin").ShouldBe(Listed);
        Header(response, "Access-Control-Allow-Methods").ShouldNotBeNull().Split(',').Select(value => value.Trim()).ShouldContain(method);
        Header(response, "Access-Control-Allow-Headers").ShouldNotBeNull().ToLowerInvariant().Split(',').Select(value => value.Trim())
            .ShouldBe(["content-type", "x-api-key"], ignoreOrder: true);
    }

    [Test]
    public async Task AnActualRequestFromAListedOriginCanReadItsAnswer()
    {
        await using var app = new AllocationApp(settings: OneOrigin);
        using var client = app.CreateClient();

        var added = await client.SendAsync(Write("/add_batch", Listed, new() { ["ref"] = "batch-1", ["sku"] = "RED-CHAIR", ["qty"] = 10, ["eta"] = null }));
        var refused = await client.SendAsync(Write("/allocate", Listed, new() { ["orderid"] = "order-1", ["sku"] = "RED-CHAIR", ["qty"] = 0 }));

        await added.ShouldBeCreatedAsync();
        Header(added, "Access-Control-Allow-Origin").ShouldBe(Listed);
        Header(added, "Access-Control-Expose-Headers").ShouldNotBeNull().ShouldContain("Location");
        await refused.ShouldBeInvalidAsync("qty");
        Header(refused, "Access-Control-Allow-Origin").ShouldBe(Listed);
    }

    [Test]
    public async Task AnUnauthorizedAnswerToAListedOriginIsReadable()
    {
        await using var app = new AllocationApp(settings: OneOrigin);
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/allocate") { Content = JsonContent.Create(new { orderid = "order-1", sku = "RED-CHAIR", qty = 1 }) };
        request.Headers.Add("Origin", Listed);

        var response = await client.SendAsync(request);

        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        Header(response, "Access-Control-Allow-Origin").ShouldBe(Listed);
    }

    [Test]
    public async Task AnotherOriginGetsNoCorsHeaders()
    {
        await using var app = new AllocationApp(settings: OneOrigin);
        using var client = app.CreateClient();

        var preflight = await client.SendAsync(Preflight("/allocate", Unlisted, "POST"));
        var actual = await client.SendAsync(Get("/products", Unlisted));

        CorsHeaders(preflight).ShouldBeEmpty();
        actual.StatusCode.ShouldBe(HttpStatusCode.OK);
        CorsHeaders(actual).ShouldBeEmpty();
    }

    [Test]
    public async Task WithoutListedOriginsThereIsNoCors()
    {
        await using var app = new AllocationApp();
        using var client = app.CreateClient();

        var preflight = await client.SendAsync(Preflight("/allocate", Listed, "POST"));
        var actual = await client.SendAsync(Get("/products", Listed));

        CorsHeaders(preflight).ShouldBeEmpty();
        CorsHeaders(actual).ShouldBeEmpty();
    }

    [TestCase("warehouse.example.com")]
    [TestCase("https://warehouse.example.com/")]
    [TestCase("https://warehouse.example.com/ui")]
    [TestCase("ftp://warehouse.example.com")]
    [TestCase("*")]
    public async Task AnOriginThatIsNotOneStopsStartUpNamingTheKey(string origin)
    {
        using var database = new TestDatabase();
        var settings = ServiceProcess.Standalone(database);
        settings["Cors:AllowedOrigins:0"] = Listed;
        settings["Cors:AllowedOrigins:1"] = origin;

        var failure = await Should.ThrowAsync<InvalidOperationException>(() => ServiceProcess.StartAsync(settings));

        failure.Message.ShouldContain($"Cors:AllowedOrigins:1 is \"{origin}\", which is not an origin");
        failure.Message.ShouldNotContain("Cors:AllowedOrigins:0");
    }

    private static HttpRequestMessage Preflight(string path, string origin, string method)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        request.Headers.Add("Access-Control-Request-Headers", "content-type,x-api-key");
        return request;
    }

    private static HttpRequestMessage Get(string path, string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Origin", origin);
        return request;
    }

    private static HttpRequestMessage Write(string path, string origin, Dictionary<string, object?> body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Add("Origin", origin);
        request.Headers.Add(ApiKeyHeader, "key-1");
        return request;
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    private static string[] CorsHeaders(HttpResponseMessage response) =>
        [.. response.Headers.Select(header => header.Key).Where(name => name.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase))];
}
