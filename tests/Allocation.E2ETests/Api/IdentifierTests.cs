using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Allocation.E2ETests.Support;
using Allocation.Testing;

namespace Allocation.E2ETests.Api;

/// <summary>
/// Contract rule 8: every reference, SKU and order id a write accepts reads back, as itself, through its
/// <c>Location</c> and the read routes; one that could not is refused at the write with a 400 that says why.
/// Run against real Kestrel, since how it decodes the request target is what is at stake.
/// </summary>
[Category("E2E")]
public class IdentifierTests
{
    // Each is used as a batch reference, its SKU and an order id at once.
    private static readonly string[] OddIdentifiers =
    [
        "x/y", "/leading-slash", "trailing-slash/", "a//b", "%", "100%", "%2F", "x%2Fy", "%252F", "%25", "%zz", "%C3%A9",
        "a b", "café", "日本語", "emoji 🎉", "👩‍👩‍👧", "❤️", "?", "a?b=c", "#", "a#b", "+", "a+b", "\"quoted\"", "'single'",
        "back\\slash", "../x", "./x", "x/..", "x/.", "...", "a;b", "a&b=c", "@:", "[]{}<>|^`~", "*", "!$&'()*+,;=",
        "a\u00A0b", "a\u200Db", "שלום", "ﬁ", "\uFFFD",
    ];

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

    [TestCaseSource(nameof(OddIdentifiers))]
    public async Task AnOddIdentifierReadsBackThroughItsLocationAndTheReadRoutes(string identifier)
    {
        var added = await _client.AddBatchAsync(identifier, identifier, 10);
        var allocated = await _client.AllocateAsync(identifier, identifier, 1);

        await added.ShouldBeCreatedAsync();
        (await allocated.ShouldBeAllocatedAsync()).ShouldBe(identifier);
        var batch = await ReadAsync(added.Headers.Location);
        batch.Text("ref").ShouldBe(identifier);
        batch.Text("sku").ShouldBe(identifier);
        batch.GetProperty("allocations").EnumerateArray().Select(line => line.Text("orderid")).ShouldBe([identifier]);
        var lines = await ReadAsync(allocated.Headers.Location);
        lines.EnumerateArray().Select(line => (line.Text("sku"), line.Text("batchref"))).ShouldBe([(identifier, identifier)]);
        var product = await ReadAsync(Route("products", identifier));
        product.Text("sku").ShouldBe(identifier);
        product.GetProperty("batches").EnumerateArray().Select(stock => stock.Text("ref")).ShouldBe([identifier]);
    }

    [Test]
    public async Task AnEncodedSlashAndAnEncodedPercentNameDifferentBatches()
    {
        await (await _client.AddBatchAsync("slash/batch", "SLASHES", 1)).ShouldBeCreatedAsync();
        await (await _client.AddBatchAsync("slash%2Fbatch", "SLASHES", 2)).ShouldBeCreatedAsync();

        var slash = await ReadAsync(new Uri("/batches/slash%2Fbatch", UriKind.Relative));
        var percent = await ReadAsync(new Uri("/batches/slash%252Fbatch", UriKind.Relative));

        (slash.Text("ref"), slash.GetProperty("purchased").GetInt32()).ShouldBe(("slash/batch", 1));
        (percent.Text("ref"), percent.GetProperty("purchased").GetInt32()).ShouldBe(("slash%2Fbatch", 2));
    }

    [Test]
    public async Task FuzzedReferencesAreReadBackOrRefusedWithAReason()
    {
        var random = new Random(20_110_102);
        var alphabet = "aZ09-_.~/%?#[]@!$&'()*+,;= \"\\<>^`{|}é日🎉\u00A0\u200D".EnumerateRunes().ToArray();
        var unreadable = new List<string>();

        for (var i = 0; i < 300; i++)
        {
            var reference = $"{i}:" + string.Concat(Enumerable.Range(0, random.Next(1, 12)).Select(_ => alphabet[random.Next(alphabet.Length)].ToString()));
            using var added = await _client.AddBatchAsync(reference, "FUZZED", 1);
            if (added.StatusCode == HttpStatusCode.BadRequest)
            {
                await added.ShouldBeInvalidAsync("ref");
                continue;
            }

            await added.ShouldBeCreatedAsync();
            using var read = await _client.GetAsync(added.Headers.Location);
            if (read.StatusCode != HttpStatusCode.OK || (await read.JsonAsync()).Text("ref") != reference)
            {
                unreadable.Add(reference);
            }
        }

        unreadable.ShouldBeEmpty();
    }

    [TestCase("ref", ".", "\".\"")]
    [TestCase("ref", "..", "\"..\"")]
    [TestCase("sku", ".", "\".\"")]
    [TestCase("ref", "a\0b", "U+0000")]
    [TestCase("sku", "line\nbreak", "U+000A")]
    [TestCase("ref", "tab\there", "U+0009")]
    [TestCase("ref", "del\u007F", "U+007F")]
    [TestCase("sku", "next\u0085line", "U+0085")]
    public async Task AnIdentifierThatCannotBeReadBackIsRefusedWithTheReason(string field, string value, string reason)
    {
        var body = new Dictionary<string, object?> { ["ref"] = $"refused-{Guid.NewGuid():N}", ["sku"] = "REFUSED", ["qty"] = 1, ["eta"] = null };
        body[field] = value;

        var response = await _client.PostAsync("/add_batch", JsonContent.Create(body));

        var problem = await response.ShouldBeInvalidAsync(field);
        problem.GetProperty("errors").GetProperty(field)[0].GetString().ShouldNotBeNull().ShouldContain(reason);
    }

    [TestCase("sku", " abc", "white space")]
    [TestCase("sku", "abc ", "white space")]
    [TestCase("ref", "\u200B", "visible character")]
    [TestCase("ref", "\u3164\u200D", "visible character")]
    [TestCase("sku", "cafe\u0301", "normalization form C")]
    public async Task AnIdentifierThatLooksLikeAnotherIsRefusedWithTheReason(string field, string value, string reason)
    {
        var body = new Dictionary<string, object?> { ["ref"] = $"look-alike-{Guid.NewGuid():N}", ["sku"] = "LOOK-ALIKE", ["qty"] = 1, ["eta"] = null };
        body[field] = value;

        var response = await _client.PostAsync("/add_batch", JsonContent.Create(body));

        var problem = await response.ShouldBeInvalidAsync(field);
        problem.GetProperty("errors").GetProperty(field)[0].GetString().ShouldNotBeNull().ShouldContain(reason);
    }

    [Test]
    public async Task AnIdentifierOf255EmojiIsAcceptedAndOf256Refused()
    {
        var longest = string.Concat(Enumerable.Repeat("🎉", 255));

        var accepted = await _client.AddBatchAsync(longest, "PARTY", 1);
        var refused = await _client.AddBatchAsync(longest + "🎉", "PARTY", 1);

        await accepted.ShouldBeCreatedAsync();
        (await ReadAsync(accepted.Headers.Location)).Text("ref").ShouldBe(longest);
        await refused.ShouldBeInvalidAsync("ref");
    }

    [Test]
    public async Task TheLongestSkuServesAsAPagingCursor()
    {
        var longest = string.Concat(Enumerable.Repeat("🎈", 255));
        await (await _client.AddBatchAsync("balloons", longest, 1)).ShouldBeCreatedAsync();

        var page = await ReadAsync(new Uri($"/products?limit=1&after={Uri.EscapeDataString(longest[..^2])}", UriKind.Relative));

        page.GetProperty("items").EnumerateArray().Select(item => item.Text("sku")).ShouldBe([longest]);
        (await ReadAsync(new Uri($"/products?limit=1&after={Uri.EscapeDataString(longest)}", UriKind.Relative))).GetProperty("items").EnumerateArray().ShouldNotContain(item => item.Text("sku") == longest);
    }

    [TestCase("..")]
    [TestCase("order\u0001")]
    public async Task AnOrderIdThatCannotBeReadBackIsRefused(string orderId)
    {
        await (await _client.AddBatchAsync($"orders-{Guid.NewGuid():N}", "ORDERS", 10)).ShouldBeCreatedAsync();

        var response = await _client.AllocateAsync(orderId, "ORDERS", 1);

        await response.ShouldBeInvalidAsync("orderid");
    }

    private static Uri Route(string collection, string identifier) => new($"/{collection}/{Uri.EscapeDataString(identifier)}", UriKind.Relative);

    private async Task<JsonElement> ReadAsync(Uri? location)
    {
        location.ShouldNotBeNull();
        using var response = await _client.GetAsync(location);
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, $"GET {location}: {body}");
        return JsonDocument.Parse(Encoding.UTF8.GetBytes(body)).RootElement.Clone();
    }
}
