using System.Text;
using Allocation.Infrastructure.Persistence;
using Allocation.IntegrationTests.Support;
using Dapper;
using Microsoft.Extensions.DependencyInjection;

namespace Allocation.IntegrationTests;

[TestFixtureSource(typeof(Providers), nameof(Providers.All))]
public class DeadLetterStoreTests(string provider) : DatabaseFixture(provider)
{
    private ServiceInstance _instance = null!;

    [SetUp]
    public void Start() => _instance = CreateInstance(new Dictionary<string, string?>
    {
        ["DeadLetters:MaxCount"] = "3",
        ["DeadLetters:Retention"] = "1.00:00:00",
        ["DeadLetters:MaxPayloadBytes"] = "1024",
        ["Outbox:PruneInterval"] = "00:00:01",
    });

    [TearDown]
    public async Task Stop() => await _instance.DisposeAsync();

    [Test]
    public async Task AtMostTheMaximumCountIsKeptTheOldestGoingFirst()
    {
        for (var i = 1; i <= 5; i++)
        {
            await Store.RecordAsync("redis:change_batch_quantity", Encoding.UTF8.GetBytes($"message-{i}"), "refused", default);
        }

        await _instance.StartOutboxAsync();
        await Eventually.Until(() => Database.Scalar<long>("SELECT count(*) FROM dead_letters") == 3, "the table to be pruned to three");

        Database.Query<string>("SELECT payload FROM dead_letters ORDER BY id").ShouldBe(["message-3", "message-4", "message-5"]);
    }

    [Test]
    public async Task DeadLettersOlderThanTheRetentionAreDeleted()
    {
        await Store.RecordAsync("redis:change_batch_quantity", "recent"u8.ToArray(), "refused", default);
        using (var connection = Database.OpenFresh())
        {
            connection.Execute(
                "INSERT INTO dead_letters (source, payload, payload_encoding, payload_size, truncated, error, created_at) VALUES ('redis:x', 'old', 'utf-8', 3, @no, 'refused', @createdAt)",
                new { no = false, createdAt = DateTimeOffset.UtcNow.AddDays(-2) });
        }

        await _instance.StartOutboxAsync();
        await Eventually.Until(() => Database.Scalar<long>("SELECT count(*) FROM dead_letters") == 1, "the old dead letter to be deleted");

        Database.Query<string>("SELECT payload FROM dead_letters").ShouldBe(["recent"]);
    }

    [Test]
    public async Task APayloadLargerThanTheLimitIsKeptUpToItCutBeforeACharacterItWouldSplit()
    {
        var message = Encoding.UTF8.GetBytes(new string('a', 1_023) + "é" + new string('b', 100));

        await Store.RecordAsync("redis:change_batch_quantity", message, "too large", default);

        var (payload, size, truncated) = Database.Query<(string, long, bool)>("SELECT payload, payload_size, truncated FROM dead_letters").Single();
        payload.ShouldBe(new string('a', 1_023));
        size.ShouldBe(message.Length);
        truncated.ShouldBeTrue();
    }

    [Test]
    public async Task ALongErrorIsKeptAsAnExcerpt()
    {
        await Store.RecordAsync("redis:change_batch_quantity", "x"u8.ToArray(), new string('e', 10_000), default);

        Database.Scalar<string>("SELECT error FROM dead_letters").Length.ShouldBeLessThan(300);
    }

    [Test]
    public async Task AStreamEntryKeepsItsIdAsTheMessageId()
    {
        await Store.RecordAsync("redis-stream:change_batch_quantity", "oops"u8.ToArray(), "not JSON", "1700000000000-3", default);

        Database.Query<(string, string)>("SELECT payload, message_id FROM dead_letters").ShouldBe([("oops", "1700000000000-3")]);
    }

    [Test]
    public async Task AStreamEntryRefusedAgainAfterItsAcknowledgementWasLostIsStoredOnce()
    {
        await Store.RecordAsync("redis-stream:change_batch_quantity", "oops"u8.ToArray(), "not JSON", "1700000000000-3", default);

        await Store.RecordAsync("redis-stream:change_batch_quantity", "oops"u8.ToArray(), "not JSON", "1700000000000-3", default);
        await Store.RecordAsync("redis-stream:change_batch_quantity", "oops"u8.ToArray(), "not JSON", "1700000000000-4", default);

        Database.Query<string>("SELECT message_id FROM dead_letters ORDER BY id").ShouldBe(["1700000000000-3", "1700000000000-4"]);
    }

    private DeadLetterStore Store => _instance.Services.GetRequiredService<DeadLetterStore>();
}
