using System.Net;
using System.Text;
using Allocation.E2ETests.Support;

namespace Allocation.E2ETests.Api;

[Category("E2E")]
public class ErrorShapeTests : ApiFixture
{
    // One request per kind of failure the service can answer; the app holds batch "chairs" of 10 RED-CHAIR,
    // 10 of which are allocated to order-1.
    private static readonly Dictionary<string, Func<HttpClient, Task<HttpResponseMessage>>> Failures = new(StringComparer.Ordinal)
    {
        ["invalid sku"] = client => client.AllocateAsync("order-2", "BLUE-VASE", 1),
        ["out of stock"] = client => client.AllocateAsync("order-2", "RED-CHAIR", 1),
        ["conflicting line"] = client => client.AllocateAsync("order-1", "RED-CHAIR", 9),
        ["conflicting batch"] = client => client.AddBatchAsync("chairs", "RED-CHAIR", 11),
        ["invalid field"] = client => client.AllocateAsync("order-2", "RED-CHAIR", 0),
        ["missing field"] = client => client.PostJsonAsync("/allocate", """{"orderid": "order-2", "sku": "RED-CHAIR"}"""),
        ["wrong type"] = client => client.PostJsonAsync("/allocate", """{"orderid": "order-2", "sku": "RED-CHAIR", "qty": "1"}"""),
        ["malformed json"] = client => client.PostJsonAsync("/allocate", """{"orderid": "order-2", """),
        ["empty body"] = client => client.PostJsonAsync("/allocate", ""),
        ["unsupported media type"] = client => client.PostAsync("/allocate", new StringContent("""{"orderid": "order-2", "sku": "RED-CHAIR", "qty": 1}""", Encoding.UTF8, "text/plain")),
        ["body too large"] = client => client.PostJsonAsync("/allocate", new string(' ', 2 * 1024 * 1024)),
        ["order without allocation"] = client => client.GetAsync("/allocations/order-2"),
        ["unknown route"] = client => client.GetAsync("/nowhere"),
        ["wrong method"] = client => client.GetAsync("/allocate"),
    };

    [SetUp]
    public async Task StartWithAFullBatch()
    {
        await (await Client.AddBatchAsync("chairs", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        await (await Client.AllocateAsync("order-1", "RED-CHAIR", 10)).ShouldBeAllocatedAsync();
    }

    [TestCase("invalid sku", HttpStatusCode.BadRequest)]
    [TestCase("out of stock", HttpStatusCode.Conflict)]
    [TestCase("conflicting line", HttpStatusCode.Conflict)]
    [TestCase("conflicting batch", HttpStatusCode.Conflict)]
    [TestCase("invalid field", HttpStatusCode.BadRequest)]
    [TestCase("missing field", HttpStatusCode.BadRequest)]
    [TestCase("wrong type", HttpStatusCode.BadRequest)]
    [TestCase("malformed json", HttpStatusCode.BadRequest)]
    [TestCase("empty body", HttpStatusCode.BadRequest)]
    [TestCase("unsupported media type", HttpStatusCode.UnsupportedMediaType)]
    [TestCase("body too large", HttpStatusCode.RequestEntityTooLarge)]
    [TestCase("order without allocation", HttpStatusCode.NotFound)]
    [TestCase("unknown route", HttpStatusCode.NotFound)]
    [TestCase("wrong method", HttpStatusCode.MethodNotAllowed)]
    public async Task EveryFailureIsAProblemWithStatusTitleDetailAndMessage(string failure, HttpStatusCode status)
    {
        var response = await Failures[failure](Client);

        await response.ShouldBeProblemAsync(status);
    }

    [Test]
    public async Task ValidationErrorsAreKeyedByTheContractsFieldNames()
    {
        var response = await Client.PostJsonAsync("/add_batch", """{"ref": "", "sku": "", "qty": -1, "eta": null}""");

        var problem = await response.ShouldBeInvalidAsync("ref", "sku", "qty");
        (problem.GetProperty("errors").GetProperty("qty")[0].GetString() ?? "").ShouldContain("qty");
    }

    [Test]
    public async Task ErrorsDoNotLeakDotNetTypeNames()
    {
        var response = await Client.PostJsonAsync("/allocate", """{"orderid": "order-2", "sku": "RED-CHAIR", "qty": "1"}""");

        var body = (await response.ShouldBeInvalidAsync("qty")).GetRawText();
        body.ShouldNotContain("Int32");
        body.ShouldNotContain("System.");
        body.ShouldNotContain("AllocateRequest");
    }

    [Test]
    public async Task AFailedRequestLeavesTheServiceAnswering()
    {
        foreach (var failure in Failures.Values)
        {
            (await failure(Client)).Dispose();
        }

        await (await Client.AddBatchAsync("vases", "BLUE-VASE", 10)).ShouldBeCreatedAsync();
        var response = await Client.AllocateAsync("order-2", "BLUE-VASE", 1);

        (await response.ShouldBeAllocatedAsync()).ShouldBe("vases");
    }
}
