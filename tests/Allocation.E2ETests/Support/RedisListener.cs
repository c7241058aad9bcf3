using System.Text.Json;
using StackExchange.Redis;

namespace Allocation.E2ETests.Support;

/// <summary>
/// A downstream consumer of one channel, on its own connection: every message that arrives is kept, so
/// a test subscribes before it triggers anything and then waits for what it expects.
/// </summary>
public sealed class RedisListener : IAsyncDisposable
{
    private readonly ConnectionMultiplexer _connection;
    private readonly List<string> _messages = [];

    private RedisListener(ConnectionMultiplexer connection, ChannelMessageQueue queue)
    {
        _connection = connection;
        queue.OnMessage(message =>
        {
            lock (_messages)
            {
                _messages.Add(message.Message.ToString());
            }
        });
    }

    public static async Task<RedisListener> SubscribeAsync(string configuration, string channel)
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(configuration);
        var queue = await connection.GetSubscriber().SubscribeAsync(RedisChannel.Literal(channel));
        return new RedisListener(connection, queue);
    }

    public IReadOnlyList<string> Messages
    {
        get
        {
            lock (_messages)
            {
                return [.. _messages];
            }
        }
    }

    /// <summary>The first message matching <paramref name="match"/>, parsed.</summary>
    public async Task<JsonElement> WaitForAsync(Func<JsonElement, bool> match, TimeSpan timeout) =>
        (await WaitUntilAsync(messages => messages.Any(match), timeout)).First(match);

    /// <summary>Every message received once <paramref name="done"/> holds for them, parsed.</summary>
    /// <exception cref="TimeoutException">It did not hold within the timeout; the message says what arrived.</exception>
    public async Task<IReadOnlyList<JsonElement>> WaitUntilAsync(Func<IReadOnlyList<JsonElement>, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var messages = Messages;
            var parsed = messages.Select(Parse).ToList();
            if (done(parsed))
            {
                return parsed;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(
                    $"Waited {timeout.TotalSeconds:0} s on the outbound channel; {messages.Count} message(s) arrived: {string.Join(" ", messages.Take(5))}");
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync() => await _connection.DisposeAsync();

    private static JsonElement Parse(string message)
    {
        using var document = JsonDocument.Parse(message);
        return document.RootElement.Clone();
    }
}
