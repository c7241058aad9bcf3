using System.Net;
using System.Text.Json;
using Allocation.E2ETests.Api;
using Allocation.E2ETests.Support;
using Allocation.Testing;

namespace Allocation.E2ETests.Operations;

/// <summary>
/// <c>GET /dead-letters</c> and <c>POST /dead-letters/{id}/replay</c>: inbound messages the service refused,
/// for operators to inspect and send through again once the upstream data is fixed.
/// </summary>
[Category("E2E")]
public class DeadLetterTests : ApiFixture
{
    private const string Sku = "RED-CHAIR";
    private const string LateBatch = "late-batch";
    private const string Change = """{"batchref":"late-batch","qty":3}""";

    private RedisTestServer _redis = null!;
    private RedisPublisher _upstream = null!;

    protected override string? Redis => _redis.ConnectionString;

    [OneTimeSetUp]
    public async Task StartRedis() => _redis = await RedisTestServer.StartAsync();

    [OneTimeTearDown]
    public async Task StopRedis() => await _redis.DisposeAsync();

    [SetUp]
    public async Task ConnectUpstream()
    {
        _upstream = await RedisPublisher.ConnectAsync(_redis.ConnectionString);
        await _upstream.WaitUntilHeardAsync(App);
    }

    [TearDown]
    public async Task DisconnectUpstream() => await _upstream.DisposeAsync();

    [Test]
    public async Task AChangeForAnUnknownBatchIsListedAsADeadLetter()
    {
        await _upstream.PublishAsync(App.InboundChannel, Change);

        var deadLetter = await SingleDeadLetterAsync();

        deadLetter.GetProperty("source").GetString().ShouldBe($"redis:{App.InboundChannel}");
        deadLetter.GetProperty("preview").GetString().ShouldBe(Change);
        deadLetter.GetProperty("size").GetInt64().ShouldBe(Change.Length);
        deadLetter.GetProperty("truncated").GetBoolean().ShouldBeFalse();
        deadLetter.GetProperty("error").GetString().ShouldNotBeNull().ShouldContain(LateBatch);
        deadLetter.GetProperty("created_at").GetDateTimeOffset().ShouldBeInRange(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
        deadLetter.GetProperty("replayed_at").ValueKind.ShouldBe(JsonValueKind.Null);
        deadLetter.GetProperty("replay_outcome").ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Test]
    public async Task ReplayingOnceTheBatchExistsAppliesTheChange()
    {
        var id = await DeadLetterOfChangeAsync();
        await AddLateBatchWithTwoLinesAsync();

        var response = await Client.PostAsync($"/dead-letters/{id}/replay", null);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).ShouldBe($$"""{"id":{{id}},"outcome":"applied","error":null}""");
        await SecondLineMovedToSpareAsync();
        var product = await (await Client.GetAsync($"/products/{Sku}")).JsonAsync();
        product.GetProperty("batches").EnumerateArray().Select(batch => batch.GetRawText()).ShouldBe(
        [
            """{"ref":"late-batch","eta":null,"purchased":3,"allocated":2,"available":1}""",
            """{"ref":"spare","eta":"2011-01-02","purchased":10,"allocated":4,"available":6}""",
        ]);
    }

    [Test]
    public async Task AnAppliedReplayIsRecordedOnTheDeadLetter()
    {
        var id = await DeadLetterOfChangeAsync();
        await AddLateBatchWithTwoLinesAsync();

        (await Client.PostAsync($"/dead-letters/{id}/replay", null)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var deadLetter = await SingleDeadLetterAsync();
        deadLetter.GetProperty("id").GetInt64().ShouldBe(id);
        deadLetter.GetProperty("replay_outcome").GetString().ShouldBe("applied");
        deadLetter.GetProperty("replayed_at").GetDateTimeOffset().ShouldBeGreaterThanOrEqualTo(deadLetter.GetProperty("created_at").GetDateTimeOffset());
    }

    [Test]
    public async Task AnAppliedDeadLetterCannotBeReplayedAgain()
    {
        var id = await DeadLetterOfChangeAsync();
        await AddLateBatchWithTwoLinesAsync();
        (await Client.PostAsync($"/dead-letters/{id}/replay", null)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await SecondLineMovedToSpareAsync();
        var before = await Client.GetStringAsync($"/products/{Sku}");

        var response = await Client.PostAsync($"/dead-letters/{id}/replay", null);

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.Conflict);
        problem.Message().ShouldContain("already applied");
        (await Client.GetStringAsync($"/products/{Sku}")).ShouldBe(before);
    }

    [Test]
    public async Task ReplayingAnUnknownDeadLetterIsNotFound()
    {
        var id = await DeadLetterOfChangeAsync();

        var response = await Client.PostAsync($"/dead-letters/{id + 1}/replay", null);

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.NotFound);
        problem.Message().ShouldContain($"{id + 1}");
    }

    [Test]
    public async Task ReplayingAChangeForABatchThatStillDoesNotExistIsRefused()
    {
        var id = await DeadLetterOfChangeAsync();

        var response = await Client.PostAsync($"/dead-letters/{id}/replay", null);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var outcome = await response.JsonAsync();
        outcome.GetProperty("id").GetInt64().ShouldBe(id);
        outcome.GetProperty("outcome").GetString().ShouldBe("refused");
        outcome.GetProperty("error").GetString().ShouldNotBeNull().ShouldContain(LateBatch);
    }

    [Test]
    public async Task ARefusedReplayIsRecordedOnTheSameDeadLetter()
    {
        var id = await DeadLetterOfChangeAsync();

        (await Client.PostAsync($"/dead-letters/{id}/replay", null)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var deadLetter = await SingleDeadLetterAsync();
        deadLetter.GetProperty("id").GetInt64().ShouldBe(id);
        deadLetter.GetProperty("replay_outcome").GetString().ShouldStartWith("refused");
        deadLetter.GetProperty("replay_outcome").GetString().ShouldNotBeNull().ShouldContain(LateBatch);
        deadLetter.GetProperty("replayed_at").ValueKind.ShouldBe(JsonValueKind.String);
    }

    [Test]
    public async Task ARefusedDeadLetterCanBeReplayedAgainOnceFixed()
    {
        var id = await DeadLetterOfChangeAsync();
        (await (await Client.PostAsync($"/dead-letters/{id}/replay", null)).JsonAsync()).GetProperty("outcome").GetString().ShouldBe("refused");
        await AddLateBatchWithTwoLinesAsync();

        var outcome = await (await Client.PostAsync($"/dead-letters/{id}/replay", null)).JsonAsync();

        outcome.GetProperty("outcome").GetString().ShouldBe("applied");
        (await SingleDeadLetterAsync()).GetProperty("replay_outcome").GetString().ShouldBe("applied");
    }

    [Test]
    public async Task AMessageThatIsNotJsonIsRefusedOnReplay()
    {
        await _upstream.PublishAsync(App.InboundChannel, "not json");
        var id = (await SingleDeadLetterAsync()).GetProperty("id").GetInt64();

        var outcome = await (await Client.PostAsync($"/dead-letters/{id}/replay", null)).JsonAsync();

        outcome.GetProperty("outcome").GetString().ShouldBe("refused");
        outcome.GetProperty("error").GetString().ShouldNotBeNull().ShouldContain("JSON");
    }

    [Test]
    public async Task ADeadLetterFromAChannelTheServiceNoLongerHearsCannotBeReplayed()
    {
        var id = await DeadLetterOfChangeAsync();
        await AddLateBatchWithTwoLinesAsync();
        await using var renamed = new AllocationApp(_redis.ConnectionString, database: App.Database);
        using var client = renamed.CreateClient();

        var response = await client.PostAsync($"/dead-letters/{id}/replay", null);

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.Conflict);
        problem.Message().ShouldContain(App.InboundChannel);
        (await Client.GetStringAsync("/allocations/order-2")).ShouldContain(LateBatch);
    }

    [Test]
    public async Task DeadLettersArePagedOldestFirstUntilNextIsNull()
    {
        foreach (var payload in new[] { "poison-1", "poison-2", "poison-3" })
        {
            await _upstream.PublishAsync(App.InboundChannel, payload);
        }

        await DeadLettersAsync(count: 3);

        var first = await (await Client.GetAsync("/dead-letters?limit=2")).JsonAsync();
        var second = await (await Client.GetAsync($"/dead-letters?limit=2&after={first.GetProperty("next").GetString()}")).JsonAsync();
        Payloads(first).ShouldBe(["poison-1", "poison-2"]);
        first.GetProperty("next").GetString().ShouldBe($"{first.GetProperty("items")[1].GetProperty("id").GetInt64()}");
        Payloads(second).ShouldBe(["poison-3"]);
        second.GetProperty("next").ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Test]
    public async Task ListsShowTheStartOfAPayloadAndItsSizeWhileTheWholeIsOneReadAway()
    {
        var large = $$"""{"batchref":"{{new string('x', 10_000)}}","qty":3}""";
        await _upstream.PublishAsync(App.InboundChannel, large);

        var listed = await SingleDeadLetterAsync();
        var whole = await (await Client.GetAsync($"/dead-letters/{listed.GetProperty("id").GetInt64()}")).JsonAsync();

        listed.GetProperty("preview").GetString().ShouldBe(large[..200]);
        listed.GetProperty("size").GetInt64().ShouldBe(large.Length);
        listed.TryGetProperty("payload", out _).ShouldBeFalse();
        whole.GetProperty("payload").GetString().ShouldBe(large);
        whole.GetProperty("encoding").GetString().ShouldBe("utf-8");
        whole.GetProperty("truncated").GetBoolean().ShouldBeFalse();
    }

    [Test]
    public async Task ReadingADeadLetterThatDoesNotExistIsNotFound()
    {
        var response = await Client.GetAsync("/dead-letters/999");

        await response.ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [TestCase(new byte[] { 0xFF }, TestName = "a 0xFF byte")]
    [TestCase(new byte[] { 0xC3, 0x28 }, TestName = "a broken two-byte sequence")]
    public async Task AMessageWhoseBytesAreNotUtf8IsKeptAsThoseBytes(byte[] broken)
    {
        byte[] message = [.. "{\"batchref\":\"rb-1"u8, .. broken, .. "\",\"qty\":5}"u8];

        await _upstream.PublishAsync(App.InboundChannel, message);

        var listed = await SingleDeadLetterAsync();
        var whole = await (await Client.GetAsync($"/dead-letters/{listed.GetProperty("id").GetInt64()}")).JsonAsync();
        whole.GetProperty("encoding").GetString().ShouldBe("base64");
        Convert.FromBase64String(whole.GetProperty("payload").GetString()!).ShouldBe(message);
        whole.GetProperty("size").GetInt64().ShouldBe(message.Length);
        whole.GetProperty("error").GetString().ShouldNotBeNull().ShouldContain("batchref");
    }

    [Test]
    public async Task AMessageWithAnEscapedHalfOfASurrogatePairIsADeadLetter()
    {
        const string message = """{"batchref":"\ud800","qty":5}""";

        await _upstream.PublishAsync(App.InboundChannel, message);

        var deadLetter = await SingleDeadLetterAsync();
        deadLetter.GetProperty("preview").GetString().ShouldBe(message);
        deadLetter.GetProperty("error").GetString().ShouldNotBeNull().ShouldContain("not valid text");
    }

    [Test]
    public async Task AMessageLargerThanTheLimitIsKeptTruncatedCutOnACharacterAndNeverReplayed()
    {
        await AddLateBatchWithTwoLinesAsync();
        var valid = """{"batchref":"late-batch","qty":4}""";
        var message = valid + new string(' ', 65_536 - valid.Length - 1) + "éjunk";

        await _upstream.PublishAsync(App.InboundChannel, message);

        var id = (await SingleDeadLetterAsync()).GetProperty("id").GetInt64();
        var whole = await (await Client.GetAsync($"/dead-letters/{id}")).JsonAsync();
        var replay = await Client.PostAsync($"/dead-letters/{id}/replay", null);
        whole.GetProperty("truncated").GetBoolean().ShouldBeTrue();
        whole.GetProperty("size").GetInt64().ShouldBe(System.Text.Encoding.UTF8.GetByteCount(message));
        System.Text.Encoding.UTF8.GetByteCount(whole.GetProperty("payload").GetString()!).ShouldBeLessThanOrEqualTo(65_536);
        whole.GetProperty("payload").GetString().ShouldBe(message[..^5]);
        (await replay.ShouldBeProblemAsync(HttpStatusCode.Conflict)).Message().ShouldContain("only part of its");
        var product = await (await Client.GetAsync($"/products/{Sku}")).JsonAsync();
        product.GetProperty("batches")[0].GetProperty("purchased").GetInt32().ShouldBe(10);
    }

    [Test]
    public async Task AByteOrderMarkIsAcceptedAsItIsOverHttp()
    {
        await AddLateBatchWithTwoLinesAsync();
        byte[] message = [0xEF, 0xBB, 0xBF, .. System.Text.Encoding.UTF8.GetBytes("""{"batchref":"late-batch","qty":9}""")];

        await _upstream.PublishAsync(App.InboundChannel, message);

        await Eventually.Until(
            async () => (await (await Client.GetAsync($"/products/{Sku}")).JsonAsync()).GetProperty("batches")[0].GetProperty("purchased").GetInt32(),
            purchased => purchased == 9,
            "the change with a byte order mark to be applied");
        (await (await Client.GetAsync("/dead-letters")).Content.ReadAsStringAsync()).ShouldBe("""{"items":[],"next":null}""");
    }

    [Test]
    public async Task WithoutDeadLettersTheListIsEmpty()
    {
        var response = await Client.GetAsync("/dead-letters");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).ShouldBe("""{"items":[],"next":null}""");
    }

    [TestCase("limit=0", "limit")]
    [TestCase("limit=abc", "limit")]
    [TestCase("after=-1", "after")]
    [TestCase("after=abc", "after")]
    public async Task InvalidPagingIsRefused(string query, string field)
    {
        var response = await Client.GetAsync($"/dead-letters?{query}");

        await response.ShouldBeInvalidAsync(field);
    }

    private async Task<long> DeadLetterOfChangeAsync()
    {
        await _upstream.PublishAsync(App.InboundChannel, Change);
        return (await SingleDeadLetterAsync()).GetProperty("id").GetInt64();
    }

    // The change would shrink late-batch below its two lines, so the most recent one (order-2) must move to spare.
    private async Task AddLateBatchWithTwoLinesAsync()
    {
        await (await Client.AddBatchAsync(LateBatch, Sku, 10)).ShouldBeCreatedAsync();
        await (await Client.AddBatchAsync("spare", Sku, 10, "2011-01-02")).ShouldBeCreatedAsync();
        (await (await Client.AllocateAsync("order-1", Sku, 2)).ShouldBeAllocatedAsync()).ShouldBe(LateBatch);
        (await (await Client.AllocateAsync("order-2", Sku, 4)).ShouldBeAllocatedAsync()).ShouldBe(LateBatch);
    }

    // The deallocated line is allocated again by the outbox, after the replay has answered.
    private async Task SecondLineMovedToSpareAsync() =>
        await Eventually.Until(
            async () => await (await Client.GetAsync("/allocations/order-2")).Content.ReadAsStringAsync(),
            allocations => allocations == $$"""[{"sku":"{{Sku}}","batchref":"spare"}]""",
            "order-2 to be allocated to spare");

    private async Task<JsonElement> SingleDeadLetterAsync() => (await DeadLettersAsync(count: 1)).Single();

    private async Task<JsonElement[]> DeadLettersAsync(int count)
    {
        var page = await Eventually.Until(
            async () => await (await Client.GetAsync("/dead-letters")).JsonAsync(),
            page => page.GetProperty("items").GetArrayLength() >= count,
            $"{count} dead letter(s) to be listed");
        return [.. page.GetProperty("items").EnumerateArray()];
    }

    private static string[] Payloads(JsonElement page) =>
        [.. page.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("preview").GetString()!)];
}
