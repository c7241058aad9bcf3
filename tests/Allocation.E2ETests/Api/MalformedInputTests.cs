using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Allocation.E2ETests.Support;

namespace Allocation.E2ETests.Api;

[Category("E2E")]
public class MalformedInputTests : ApiFixture
{
    private const string ValidLine = """{"orderid": "order-1", "sku": "RED-CHAIR", "qty": 3}""";

    [SetUp]
    public async Task StartWithOneBatch() => await (await Client.AddBatchAsync("chairs", "RED-CHAIR", 10)).ShouldBeCreatedAsync();

    [TestCase("\"3\"")]
    [TestCase("1.5")]
    [TestCase("true")]
    [TestCase("null")]
    [TestCase("99999999999")]
    public async Task AQuantityThatIsNotAnIntegerIsRejected(string qty)
    {
        var response = await Client.PostJsonAsync("/allocate", $$"""{"orderid": "order-1", "sku": "RED-CHAIR", "qty": {{qty}}}""");

        await response.ShouldBeInvalidAsync("qty");
        await NothingWasAllocatedAsync();
    }

    [TestCase("orderid", "42")]
    [TestCase("sku", "true")]
    [TestCase("sku", "null")]
    public async Task AnIdentifierThatIsNotAStringIsRejected(string field, string value)
    {
        var body = ValidLine.Replace($"\"{field}\": \"{(field == "sku" ? "RED-CHAIR" : "order-1")}\"", $"\"{field}\": {value}", StringComparison.Ordinal);

        var response = await Client.PostJsonAsync("/allocate", body);

        await response.ShouldBeInvalidAsync(field);
        await NothingWasAllocatedAsync();
    }

    [TestCase("orderid")]
    [TestCase("sku")]
    [TestCase("qty")]
    public async Task AMissingFieldIsRejected(string field)
    {
        var fields = new Dictionary<string, string> { ["orderid"] = "\"order-1\"", ["sku"] = "\"RED-CHAIR\"", ["qty"] = "3" };
        fields.Remove(field);

        var response = await Client.PostJsonAsync("/allocate", $"{{{string.Join(", ", fields.Select(pair => $"\"{pair.Key}\": {pair.Value}"))}}}");

        await response.ShouldBeInvalidAsync(field);
        await NothingWasAllocatedAsync();
    }

    [TestCase("""{"orderid": 42, "sku": "RED-CHAIR", "qty": 3, "orderid": "order-1"}""", "orderid")]
    [TestCase("""{"orderid": "order-1", "sku": "RED-CHAIR", "qty": null, "qty": 3}""", "qty")]
    [TestCase("""{"orderid": "order-1", "sku": "RED-CHAIR", "qty": 3, "qty": 3}""", "qty")]
    public async Task AFieldGivenTwiceIsRejected(string body, string field)
    {
        var response = await Client.PostJsonAsync("/allocate", body);

        var problem = await response.ShouldBeInvalidAsync(field);
        problem.GetProperty("errors").GetProperty(field)[0].GetString().ShouldBe($"'{field}' must be given once; it is given 2 times.");
        await NothingWasAllocatedAsync();
    }

    [Test]
    public async Task AnEmptyObjectNamesEveryMissingField()
    {
        var response = await Client.PostJsonAsync("/allocate", "{}");

        await response.ShouldBeInvalidAsync("orderid", "sku", "qty");
    }

    [Test]
    public async Task UnknownExtraFieldsAreIgnored()
    {
        var response = await Client.PostJsonAsync(
            "/allocate", """{"orderid": "order-1", "sku": "RED-CHAIR", "qty": 3, "batchref": "elsewhere", "priority": [1, {"x": null}]}""");

        (await response.ShouldBeAllocatedAsync()).ShouldBe("chairs");
    }

    [TestCase("""{"orderid": "order-1", "sku": "RED-CHAIR", "qty": 3""")]
    [TestCase("""{"orderid": "order-1", "sku": "RED-CHAIR", "qty": 3} {"orderid": "order-2"}""")]
    [TestCase("""{orderid: "order-1", sku: "RED-CHAIR", qty: 3}""")]
    [TestCase("""{"orderid": "order-1", "sku": "RED-CHAIR", "qty": 3,}""")]
    public async Task MalformedJsonIsRejected(string body)
    {
        var response = await Client.PostJsonAsync("/allocate", body);

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        await NothingWasAllocatedAsync();
    }

    [TestCase("""[{"orderid": "order-1", "sku": "RED-CHAIR", "qty": 3}]""")]
    [TestCase("\"order-1\"")]
    [TestCase("null")]
    public async Task ABodyThatIsNotAnObjectIsRejected(string body)
    {
        var response = await Client.PostJsonAsync("/allocate", body);

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        await NothingWasAllocatedAsync();
    }

    [TestCase("")]
    [TestCase("  \r\n")]
    public async Task AMissingBodyIsAnsweredThatAJsonBodyIsRequired(string body)
    {
        var response = await Client.PostJsonAsync("/allocate", body);

        var problem = await response.ShouldBeInvalidAsync("body");
        problem.Message().ShouldBe("A JSON body is required.");
    }

    [TestCase("null", "null")]
    [TestCase("[]", "an array")]
    [TestCase("42", "a number")]
    public async Task ABodyThatIsNotAnObjectIsAnsweredWhatItIs(string body, string kind)
    {
        var response = await Client.PostJsonAsync("/deallocate", body);

        var problem = await response.ShouldBeInvalidAsync("body");
        problem.Message().ShouldBe($"The request body must be a JSON object, not {kind}.");
    }

    [Test]
    public async Task ABodyThatIsNotUtf8IsAnsweredSo()
    {
        var bytes = Encoding.UTF8.GetBytes(ValidLine.Replace("order-1", "order-\u0001", StringComparison.Ordinal));
        var invalid = Array.IndexOf(bytes, (byte)1);
        bytes[invalid] = 0xFF;
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var response = await Client.PostAsync("/allocate", content);

        var problem = await response.ShouldBeInvalidAsync("body");
        problem.Message().ShouldBe($"The request body is not valid UTF-8 (byte {invalid + 1} is not).");
        await NothingWasAllocatedAsync();
    }

    [Test]
    public async Task ABodyStartingWithAUtf8ByteOrderMarkIsAccepted()
    {
        using var content = new ByteArrayContent([.. Encoding.UTF8.Preamble, .. Encoding.UTF8.GetBytes(ValidLine)]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var response = await Client.PostAsync("/allocate", content);

        (await response.ShouldBeAllocatedAsync()).ShouldBe("chairs");
    }

    [Test]
    public async Task EveryFieldOfTheWrongTypeIsNamedWithWhatItMustBe()
    {
        var response = await Client.PostJsonAsync("/add_batch", """{"ref": 1, "sku": null, "qty": "10", "eta": 5}""");

        var problem = await response.ShouldBeInvalidAsync("ref", "sku", "qty", "eta");
        var errors = problem.GetProperty("errors");
        errors.GetProperty("ref")[0].GetString().ShouldBe("'ref' must be a string.");
        errors.GetProperty("sku")[0].GetString().ShouldBe("'sku' must be a string.");
        errors.GetProperty("qty")[0].GetString().ShouldBe("'qty' must be an integer.");
        errors.GetProperty("eta")[0].GetString().ShouldBe("'eta' must be a date (YYYY-MM-DD) or null.");
    }

    [Test]
    public async Task EveryMissingFieldIsNamed()
    {
        var response = await Client.PostJsonAsync("/add_batch", """{"qty": 10}""");

        var problem = await response.ShouldBeInvalidAsync("ref", "sku", "eta");
        problem.GetProperty("errors").GetProperty("eta")[0].GetString().ShouldBe("'eta' is required.");
    }

    [Test]
    public async Task DeeplyNestedJsonIsRejected()
    {
        var body = $$"""{"orderid": "order-1", "sku": "RED-CHAIR", "qty": 3, "extra": {{new string('[', 5000)}}{{new string(']', 5000)}}}""";

        var response = await Client.PostJsonAsync("/allocate", body);

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        await NothingWasAllocatedAsync();
    }

    [TestCase("text/plain")]
    [TestCase(null)]
    public async Task ABodyThatIsNotDeclaredJsonIsUnsupported(string? mediaType)
    {
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(ValidLine));
        content.Headers.ContentType = mediaType is null ? null : new MediaTypeHeaderValue(mediaType);

        var response = await Client.PostAsync("/allocate", content);

        await response.ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType);
        await NothingWasAllocatedAsync();
    }

    [Test]
    public async Task JsonWithACharsetIsAccepted()
    {
        using var content = new StringContent(ValidLine, Encoding.UTF8, "application/json");
        content.Headers.ContentType!.CharSet = "utf-8";

        var response = await Client.PostAsync("/allocate", content);

        (await response.ShouldBeAllocatedAsync()).ShouldBe("chairs");
    }

    [Test]
    public async Task ATwoMegabyteBodyIsTooLarge()
    {
        var body = $$"""{"orderid": "{{new string('o', 2 * 1024 * 1024)}}", "sku": "RED-CHAIR", "qty": 3}""";

        var response = await Client.PostJsonAsync("/allocate", body);

        await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        await NothingWasAllocatedAsync();
    }

    [Test]
    public async Task ATwoMegabyteBodyOfUnknownLengthIsTooLarge()
    {
        var body = Encoding.UTF8.GetBytes($$"""{"orderid": "order-1", "sku": "RED-CHAIR", "qty": 3{{new string(' ', 2 * 1024 * 1024)}}}""");
        using var content = new StreamContent(new UnseekableStream(body));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var response = await Client.PostAsync("/allocate", content);

        await response.ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        await NothingWasAllocatedAsync();
    }

    [TestCase("""{"ref": "batch-1", "sku": "RED-CHAIR", "qty": "10", "eta": null}""", "qty")]
    [TestCase("""{"ref": 1, "sku": "RED-CHAIR", "qty": 10, "eta": null}""", "ref")]
    [TestCase("""{"ref": "batch-1", "sku": false, "qty": 10, "eta": null}""", "sku")]
    public async Task ABatchWithAFieldOfTheWrongTypeIsRejected(string body, string field)
    {
        var response = await Client.PostJsonAsync("/add_batch", body);

        await response.ShouldBeInvalidAsync(field);
        (await Store.CountAsync("SELECT count(*) FROM batches")).ShouldBe(1);
    }

    [TestCase("""[{"ref": "batch-1", "sku": "RED-CHAIR", "qty": 10, "eta": null}]""")]
    [TestCase("""{"ref": "batch-1", "sku": "RED-CHAIR", "qty": 10, "eta": null""")]
    [TestCase("")]
    public async Task ABatchThatIsNotAJsonObjectIsRejected(string body)
    {
        var response = await Client.PostJsonAsync("/add_batch", body);

        await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        (await Store.CountAsync("SELECT count(*) FROM batches")).ShouldBe(1);
    }

    private async Task NothingWasAllocatedAsync() =>
        (await Store.CountAsync("SELECT count(*) FROM allocations")).ShouldBe(0);

    /// <summary>A body the client cannot measure, so it is sent without a Content-Length.</summary>
    private sealed class UnseekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
