using System.Text.Json;
using Allocation.Testing;
using StackExchange.Redis;

namespace Allocation.E2ETests.Support;

/// <summary>
/// Upstream and downstream systems that talk to the service through Redis streams, on a connection of their
/// own: they append entries, read through consumer groups and look at what is pending.
/// </summary>
public sealed class RedisStreams : IAsyncDisposable
{
    private readonly ConnectionMultiplexer _connection;

    private RedisStreams(ConnectionMultiplexer connection) => _connection = connection;

    private IDatabase Database => _connection.GetDatabase();

    /// <summary>Connects to the test server; a test is skipped on a server without streams (the in-process Garnet).</summary>
    public static async Task<RedisStreams> ConnectAsync(RedisTestServer server)
    {
        if (server.Kind == "garnet")
        {
            NUnit.Framework.Assert.Ignore("Streams need a real Redis (redis-server on PATH, or REDIS_URL); the in-process Garnet has no consumer groups.");
        }

        return new RedisStreams(await ConnectionMultiplexer.ConnectAsync(server.ConnectionString));
    }

    /// <summary>Appends an entry whose <c>payload</c> field holds <paramref name="payload"/>; returns its id.</summary>
    public async Task<string> AddAsync(string stream, string payload, string? id = null) =>
        (await Database.StreamAddAsync(stream, "payload", payload, id is null ? (RedisValue?)null : id))!;

    /// <summary>Appends an entry whose <c>payload</c> field holds raw bytes, which need not be text; returns its id.</summary>
    public async Task<string> AddAsync(string stream, byte[] payload) =>
        (await Database.StreamAddAsync(stream, "payload", payload))!;

    /// <summary>Appends an entry with the fields given, which need not include <c>payload</c>.</summary>
    public async Task<string> AddFieldsAsync(string stream, params (string Name, string Value)[] fields) =>
        (await Database.StreamAddAsync(stream, [.. fields.Select(field => new NameValueEntry(field.Name, field.Value))]))!;

    /// <summary>Entries delivered to <paramref name="group"/> and not acknowledged (XPENDING); 0 when the group does not exist.</summary>
    public async Task<long> PendingAsync(string stream, string group)
    {
        try
        {
            return (await Database.StreamPendingAsync(stream, group)).PendingMessageCount;
        }
        catch (RedisServerException exception) when (exception.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
        {
            return 0;
        }
    }

    /// <summary>Waits until <paramref name="group"/> exists on <paramref name="stream"/>: entries added before that are not delivered to it.</summary>
    public Task WaitForGroupAsync(string stream, string group) =>
        Eventually.Until(
            async () => (await Database.KeyExistsAsync(stream)) && (await Database.StreamGroupInfoAsync(stream)).Any(info => info.Name == group),
            exists => exists,
            $"consumer group {group} on {stream}");

    public async Task CreateGroupAsync(string stream, string group) =>
        await Database.StreamCreateConsumerGroupAsync(stream, group, StreamPosition.NewMessages, createStream: true);

    /// <summary>Reads through <paramref name="group"/> as <paramref name="consumer"/>: from <paramref name="position"/> (0 for its own pending entries, &gt; for new ones).</summary>
    public async Task<IReadOnlyList<StreamMessage>> ReadGroupAsync(string stream, string group, string consumer, string position, int count = 100) =>
        [.. (await Database.StreamReadGroupAsync(stream, group, consumer, position, count)).Select(StreamMessage.Of)];

    public async Task AcknowledgeAsync(string stream, string group, IEnumerable<StreamMessage> messages) =>
        await Database.StreamAcknowledgeAsync(stream, group, [.. messages.Select(message => (RedisValue)message.Id)]);

    public async Task DeleteAsync(string stream, string id) => await Database.StreamDeleteAsync(stream, [id]);

    /// <summary>Sets the group back to the stream's start, so that every entry still in it is delivered again.</summary>
    public async Task RewindGroupAsync(string stream, string group) =>
        await Database.StreamConsumerGroupSetPositionAsync(stream, group, StreamPosition.Beginning);

    /// <summary>Every entry of the stream, oldest first.</summary>
    public async Task<IReadOnlyList<StreamMessage>> RangeAsync(string stream) =>
        [.. (await Database.StreamRangeAsync(stream)).Select(StreamMessage.Of)];

    public async ValueTask DisposeAsync() => await _connection.DisposeAsync();
}

/// <summary>A stream entry as a downstream system sees it: its id, its fields and its payload parsed.</summary>
public sealed record StreamMessage(string Id, IReadOnlyList<string> Fields, JsonElement Payload)
{
    public static StreamMessage Of(StreamEntry entry)
    {
        var payload = entry.Values.FirstOrDefault(field => field.Name == "payload").Value;
        using var document = JsonDocument.Parse(payload.IsNull ? "null" : payload.ToString());
        return new StreamMessage((string)entry.Id!, [.. entry.Values.Select(field => field.Name.ToString())], document.RootElement.Clone());
    }
}
