using System.Net;
using System.Text.Json;
using Allocation.E2ETests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Allocation.E2ETests.Operations;

/// <summary>The OpenAPI document at <c>/openapi/v1.json</c> and the Scalar UI at <c>/scalar</c> (Development only).</summary>
[Category("E2E")]
public class OpenApiTests
{
    [Test]
    public async Task TheDocumentListsEveryRouteWithItsMethod()
    {
        await using var app = new AllocationApp();
        using var client = app.CreateClient();

        var response = await client.GetAsync("/openapi/v1.json");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("application/json");
        var document = await response.JsonAsync();
        document.GetProperty("openapi").GetString().ShouldNotBeNull().ShouldStartWith("3.");
        Operations(document).ShouldBe(
        [
            "post /add_batch",
            "post /allocate",
            "post /deallocate",
            "get /allocations/{orderid}",
            "get /products",
            "get /products/{sku}",
            "get /batches/{ref}",
            "get /dead-letters",
            "get /dead-letters/{id}",
            "post /dead-letters/{id}/replay",
        ],
        ignoreOrder: true);
    }

    [Test]
    public async Task TheDocumentIsTitledWithTheServicesName()
    {
        var document = await DocumentAsync();

        document.GetProperty("info").GetProperty("title").GetString().ShouldBe("Allocation service");
    }

    [Test]
    public async Task EveryOperationHasAShortSummaryAndADescription()
    {
        var document = await DocumentAsync();

        var operations = document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(operation => (
                Name: $"{operation.Name} {path.Name}",
                Summary: operation.Value.TryGetProperty("summary", out var summary) ? summary.GetString() ?? "" : "",
                Description: operation.Value.TryGetProperty("description", out var description) ? description.GetString() ?? "" : "")))
            .ToList();

        operations.Count.ShouldBe(10);
        operations.Where(operation => operation.Summary.Split(' ').Length is < 2 or > 5 || operation.Summary.EndsWith('.'))
            .Select(operation => $"{operation.Name}: {operation.Summary}").ShouldBeEmpty();
        operations.Where(operation => operation.Description.Length < 20 || operation.Description == operation.Summary)
            .Select(operation => $"{operation.Name}: {operation.Description}").ShouldBeEmpty();
    }

    [TestCase("/add_batch", "post", "Add a batch")]
    [TestCase("/allocate", "post", "Allocate an order line")]
    [TestCase("/deallocate", "post", "Cancel an order line")]
    public async Task TheContractsCallsAreNamedAsTheyAreKnown(string path, string method, string summary)
    {
        var document = await DocumentAsync();

        var operation = document.GetProperty("paths").GetProperty(path).GetProperty(method);

        operation.GetProperty("summary").GetString().ShouldBe(summary);
    }

    [Test]
    public async Task AddBatchTakesTheContractsFields()
    {
        var document = await DocumentAsync();

        var schema = RequestSchema(document, "/add_batch");

        PropertyNames(schema).ShouldBe(["ref", "sku", "qty", "eta"], ignoreOrder: true);
        RequiredNames(schema).ShouldBe(["ref", "sku", "qty", "eta"], ignoreOrder: true);
    }

    [Test]
    public async Task AllocateTakesTheContractsFields()
    {
        var document = await DocumentAsync();

        var schema = RequestSchema(document, "/allocate");

        PropertyNames(schema).ShouldBe(["orderid", "sku", "qty"], ignoreOrder: true);
        RequiredNames(schema).ShouldBe(["orderid", "sku", "qty"], ignoreOrder: true);
    }

    [Test]
    public async Task ReadRoutesDescribeTheirAnswers()
    {
        var document = await DocumentAsync();

        var product = document.GetProperty("paths").GetProperty("/products/{sku}").GetProperty("get").GetProperty("responses");
        var batch = document.GetProperty("paths").GetProperty("/batches/{ref}").GetProperty("get").GetProperty("responses");

        PropertyNames(ResponseSchema(document, product)).ShouldBe(["sku", "version", "batches"], ignoreOrder: true);
        PropertyNames(ResponseSchema(document, batch)).ShouldBe(["ref", "sku", "eta", "purchased", "allocated", "available", "allocations", "next"], ignoreOrder: true);
        StatusCodes(product).ShouldContain("404");
        StatusCodes(batch).ShouldContain("404");
        StatusCodes(batch).ShouldContain("400");
    }

    [Test]
    public async Task GuardedRoutesDocumentUnauthorizedAndForbidden()
    {
        var document = await DocumentAsync(new Dictionary<string, string?> { ["Security:ApiKeys:0"] = "key-1" });

        var allocate = Responses(document, "/allocate", "post");
        var deadLetters = Responses(document, "/dead-letters", "get");
        var products = Responses(document, "/products", "get");

        StatusCodes(allocate).ShouldContain("401");
        StatusCodes(allocate).ShouldContain("403");
        StatusCodes(deadLetters).ShouldContain("401");
        StatusCodes(products).ShouldNotContain("401");
    }

    [Test]
    public async Task ProtectedReadsDocumentUnauthorized()
    {
        var document = await DocumentAsync(new Dictionary<string, string?> { ["Security:ApiKeys:0"] = "key-1", ["Security:ProtectReads"] = "true" });

        var products = Responses(document, "/products", "get");

        StatusCodes(products).ShouldContain("401");
        StatusCodes(products).ShouldContain("403");
    }

    [Test]
    public async Task ScalarIsServedInDevelopment()
    {
        await using var app = new AllocationApp();
        await using var development = app.WithWebHostBuilder(builder => builder.UseEnvironment("Development"));
        using var client = development.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        var response = await client.GetAsync("/scalar");

        ((int)response.StatusCode).ShouldBeOneOf(200, 301, 302, 307, 308);
        var page = response.StatusCode == HttpStatusCode.OK ? response : await client.GetAsync(response.Headers.Location);
        page.StatusCode.ShouldBe(HttpStatusCode.OK);
        page.Content.Headers.ContentType?.MediaType.ShouldBe("text/html");
    }

    [Test]
    public async Task ScalarIsNotServedOutsideDevelopment()
    {
        await using var app = new AllocationApp();
        using var client = app.CreateClient();

        var response = await client.GetAsync("/scalar");

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    private static async Task<JsonElement> DocumentAsync(IDictionary<string, string?>? settings = null)
    {
        await using var app = new AllocationApp(settings: settings);
        using var client = app.CreateClient();
        return await (await client.GetAsync("/openapi/v1.json")).JsonAsync();
    }

    private static string[] Operations(JsonElement document) =>
    [
        .. document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(operation => $"{operation.Name} {path.Name}")),
    ];

    private static JsonElement Responses(JsonElement document, string path, string method) =>
        document.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("responses");

    private static JsonElement RequestSchema(JsonElement document, string path) =>
        Resolve(document, document.GetProperty("paths").GetProperty(path).GetProperty("post")
            .GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema"));

    private static JsonElement ResponseSchema(JsonElement document, JsonElement responses) =>
        Resolve(document, responses.GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("schema"));

    // "#/components/schemas/Name" → that schema.
    private static JsonElement Resolve(JsonElement document, JsonElement schema) =>
        schema.TryGetProperty("$ref", out var reference)
            ? document.GetProperty("components").GetProperty("schemas").GetProperty(reference.GetString()!.Split('/')[^1])
            : schema;

    private static string[] PropertyNames(JsonElement schema) =>
        [.. schema.GetProperty("properties").EnumerateObject().Select(property => property.Name)];

    private static string[] RequiredNames(JsonElement schema) =>
        [.. schema.GetProperty("required").EnumerateArray().Select(name => name.GetString()!)];

    private static string[] StatusCodes(JsonElement responses) =>
        [.. responses.EnumerateObject().Select(response => response.Name)];
}
