using System.Net;
using System.Net.Http.Headers;
using Allocation.E2ETests.Support;
using Allocation.Testing.Properties;
using CsCheck;

namespace Allocation.E2ETests.Api;

/// <summary>
/// Generated malformed and boundary bodies for the write routes (see <see cref="FuzzedJson"/>). Whatever the body,
/// the answer is never a 5xx; a refusal is the contract's problem details and changes nothing; a body the contract
/// refuses is refused. One service and database per route, cases one after another.
/// </summary>
[Category("E2E")]
public class FuzzedBodyTests : ApiFixture
{
    private const int Cases = 150;

    private static readonly FuzzedField Sku = new("sku", FieldKind.Identifier, "\"RED-CHAIR\"");

    [SetUp]
    public async Task StartWithABatchAndALine()
    {
        await (await Client.AddBatchAsync("chairs", "RED-CHAIR", 10)).ShouldBeCreatedAsync();
        await (await Client.AllocateAsync("order-1", "RED-CHAIR", 3)).ShouldBeAllocatedAsync();
    }

    [Test]
    public Task FuzzedBatchesAreAnsweredWithoutAServerErrorAndRefusedWithoutAChange() =>
        CheckAsync("/add_batch", FuzzedJson.Bodies(
            repeatedFieldRefused: true,
            new FuzzedField("ref", FieldKind.Identifier, "\"fuzzed-batch\""), Sku, new FuzzedField("qty", FieldKind.Quantity, "5"), new FuzzedField("eta", FieldKind.Eta, "null")));

    [Test]
    public Task FuzzedLinesAreAnsweredWithoutAServerErrorAndRefusedWithoutAChange() =>
        CheckAsync("/allocate", FuzzedJson.Bodies(
            repeatedFieldRefused: true,
            new FuzzedField("orderid", FieldKind.Identifier, "\"order-2\""), Sku, new FuzzedField("qty", FieldKind.Quantity, "1", MinQty: 1)));

    [Test]
    public Task FuzzedCancellationsAreAnsweredWithoutAServerErrorAndRefusedWithoutAChange() =>
        CheckAsync("/deallocate", FuzzedJson.Bodies(repeatedFieldRefused: true, new FuzzedField("orderid", FieldKind.Identifier, "\"order-1\""), Sku));

    private Task CheckAsync(string route, Gen<FuzzedBody> bodies) =>
        bodies.CheckAsync(body => AnsweredAsync(route, body), Cases, body => body.ToString(), TestContext.Out.WriteLine, threads: 1);

    private async Task AnsweredAsync(string route, FuzzedBody body)
    {
        var before = await StateAsync();
        using var content = new ByteArrayContent(body.Bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await Client.PostAsync(route, content);

        var status = (int)response.StatusCode;
        status.ShouldBeLessThan(500, await response.Content.ReadAsStringAsync());
        if (response.IsSuccessStatusCode)
        {
            body.MustRefuse.ShouldBeFalse($"accepted with {status}");
            return;
        }

        status.ShouldBeOneOf([400, 404, 409, 413], await response.Content.ReadAsStringAsync());
        var problem = await response.ShouldBeProblemAsync(response.StatusCode);
        if (problem.TryGetProperty("errors", out var errors))
        {
            errors.EnumerateObject().ShouldAllBe(error => error.Value.GetArrayLength() > 0);
        }

        // Out of stock commits its OutOfStock event, for the stock team; the stock and the lines stay as they were.
        var after = await StateAsync();
        if (problem.Message().StartsWith("Out of stock", StringComparison.Ordinal))
        {
            after.Where(IsStock).ShouldBe(before.Where(IsStock));
        }
        else
        {
            after.ShouldBe(before);
        }
    }

    private static bool IsStock(string row) => row.StartsWith("stock ", StringComparison.Ordinal);

    // The stock and the lines, then the rest of the write model.
    private async Task<List<string>> StateAsync() =>
    [
        .. (await Store.RowsAsync("SELECT id, reference, sku, purchased_quantity, allocated_quantity, eta FROM batches ORDER BY id")).Select(row => $"stock {row}"),
        .. (await Store.RowsAsync("SELECT id, orderid, sku, qty, batch_id FROM allocations ORDER BY id")).Select(row => $"stock {row}"),
        .. await Store.RowsAsync("SELECT sku, version_number FROM products ORDER BY sku"),
        .. await Store.RowsAsync("SELECT type, payload FROM outbox ORDER BY id"),
    ];
}
