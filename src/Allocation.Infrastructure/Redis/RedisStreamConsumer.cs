using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Allocation.Application.Bus;
using Allocation.Infrastructure.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using StackExchange.Redis;

namespace Allocation.Infrastructure.Redis;

/// <summary>
/// Consumes the inbound streams (<see cref="MessagingOptions.UsesStreams"/>; each key is an inbound channel's
/// name) through consumer group <see cref="MessagingOptions.ConsumerGroup"/>, on every instance: the group
/// hands each entry to one consumer. An entry is acknowledged once its change committed or it was stored as
/// a dead letter. One that could be neither (the database is down) stays pending and is delivered again;
/// after <see cref="MaxAttempts"/> failures that are not outages it is given up as a dead letter.
/// </summary>
/// <remarks>
/// <para>
/// Each stream is read on a connection of its own, blocking on the server (<c>XREADGROUP … BLOCK</c>) while
/// nothing arrives, so an entry is taken as soon as it is added, without polling: StackExchange.Redis cannot
/// block on its shared connection. First this consumer's own pending entries (id <c>0</c>), then new ones
/// (<c>&gt;</c>), up to <see cref="BatchSize"/> at a time, one after the other in id order.
/// </para>
/// <para>
/// Each process is a new consumer (<see cref="ConsumerName"/>), so what a process that died left pending is
/// claimed (<c>XAUTOCLAIM</c>) by whichever consumer's sweep finds it idle for <see cref="MessagingOptions.ClaimIdleTime"/>.
/// Every entry is applied as the change its id names: one delivered twice, claimed late or overtaken by a
/// newer one never moves a batch back.
/// </para>
/// </remarks>
public sealed partial class RedisStreamConsumer(
    RedisConnection redis,
    InboundMessages inbound,
    ServiceMetrics metrics,
    IHostApplicationLifetime lifetime,
    IOptions<MessagingOptions> options,
    ILogger<RedisStreamConsumer> logger) : BackgroundService
{
    /// <summary>Most entries read at once.</summary>
    public const int BatchSize = 64;

    /// <summary>Deliveries of one entry that fail for a reason other than an outage before it is given up as a dead letter.</summary>
    public const int MaxAttempts = 5;

    /// <summary>What the consumer and <see cref="RedisEventPublisher"/> send; <c>XAUTOCLAIM</c> needs Redis 6.2.</summary>
    private static readonly string[] StreamCommands = ["XADD", "XGROUP", "XREADGROUP", "XACK", "XAUTOCLAIM", "XPENDING"];

    private readonly MessagingOptions _options = options.Value;
    private readonly IReadOnlyList<InboundStream> _streams = [.. inbound.Channels.Select(key => new InboundStream(key))];
    private volatile bool _streamsChecked;

    /// <summary>Unique to this process (machine, process id, a random part), so that a restarted process is a new consumer.</summary>
    public string ConsumerName { get; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>How long a read waits on the server for entries: at most a second, so claim sweeps and shutdown are not held up.</summary>
    private TimeSpan BlockFor => TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(1).Ticks, _options.ClaimSweepInterval.Ticks));

    /// <summary>
    /// Stops start-up when the server cannot do streams: the embedded broker has none. When Redis is not
    /// reachable yet, the server is checked once it is, and the service stops then.
    /// </summary>
    /// <exception cref="OptionsValidationException">The server has no streams; the message names <c>Messaging:Transport</c>.</exception>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.UsesStreams)
        {
            return;
        }

        var multiplexer = await redis.ConnectAsync(cancellationToken);
        if (multiplexer.IsConnected && await MissingStreamsAsync(multiplexer) is { } missing)
        {
            throw new OptionsValidationException(MessagingOptions.Section, typeof(MessagingOptions), [missing]);
        }

        await base.StartAsync(cancellationToken);
    }

    /// <summary>Each inbound stream's consumer group as Redis reports it now (<c>XPENDING</c>), and whether its connections are up.</summary>
    public async Task<IReadOnlyList<InboundStreamStatus>> DescribeAsync()
    {
        var multiplexer = await redis.ConnectAsync(CancellationToken.None);
        var statuses = new List<InboundStreamStatus>(_streams.Count);
        foreach (var stream in _streams)
        {
            var connected = multiplexer.IsConnected && stream.Connection?.IsConnected == true;
            long? pending = null;
            string? problem = null;
            try
            {
                pending = await ReadPendingAsync(multiplexer.GetDatabase(), stream);
            }
            catch (RedisServerException exception) when (IsNoGroup(exception))
            {
                problem = $"consumer group {_options.ConsumerGroup} does not exist yet";
            }
            catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
            {
                problem = exception.Message;
            }

            statuses.Add(new InboundStreamStatus(stream.Key, _options.ConsumerGroup, ConsumerName, connected, pending is not null, pending, stream.GroupReady, problem));
        }

        return statuses;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var multiplexer = await redis.ConnectAsync(stoppingToken);
        if (!await ServerHasStreamsAsync(multiplexer, stoppingToken))
        {
            return;
        }

        await Task.WhenAll(_streams.Select(stream => ConsumeAsync(multiplexer, stream, stoppingToken)));
    }

    // Redis was not reachable at start-up: its server is checked once it is, and the service stops if it cannot do streams.
    private async Task<bool> ServerHasStreamsAsync(IConnectionMultiplexer multiplexer, CancellationToken stoppingToken)
    {
        while (!_streamsChecked)
        {
            string? missing = null;
            if (multiplexer.IsConnected)
            {
                try
                {
                    missing = await MissingStreamsAsync(multiplexer);
                }
                catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
                {
                    // Lost again before it answered: asked once it is back.
                }
            }

            if (missing is not null)
            {
                LogStreamsMissing(missing);
                Environment.ExitCode = 1;
                lifetime.StopApplication();
                return false;
            }

            if (!_streamsChecked)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(250), stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }
            }
        }

        return true;
    }

    private async Task ConsumeAsync(IConnectionMultiplexer multiplexer, InboundStream stream, CancellationToken stoppingToken)
    {
        await using var connection = await redis.ConnectDedicatedAsync($"stream:{stream.Key}", BlockFor);
        stream.Connection = connection;
        var database = multiplexer.GetDatabase();
        var reading = connection.GetDatabase();
        var transient = Retries.Reconnect(exception => exception is RedisException or RedisTimeoutException or EntryNotSettledException);
        while (!stoppingToken.IsCancellationRequested)
        {
            var context = ResilienceContextPool.Shared.Get(stoppingToken);
            var failures = 0;
            context.Properties.Set(Retries.OnRetry, (attempt, exception) =>
            {
                // Once when consuming starts failing, once when it recovers: not a line per entry and retry.
                failures = attempt;
                if (attempt == 1)
                {
                    LogFailing(stream.Key, exception.Message);
                }
            });
            try
            {
                await transient.ExecuteAsync(async _ => await StepAsync(database, reading, stream, stoppingToken), context);
                if (failures > 0)
                {
                    LogRecovered(stream.Key, failures);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }
        }

        stream.Connection = null;
        await LeaveGroupIfIdleAsync(database, stream);
    }

    /// <summary>
    /// One round: the claim sweep when it is due, then one read (own pending entries until there are none, then new
    /// ones), each entry handled and the settled ones acknowledged. Throws when Redis fails or an entry could not be
    /// settled; the caller then tries again with backoff, from this consumer's pending entries. What was read is
    /// handled and acknowledged even once stopping, so the read in flight at shutdown is finished.
    /// </summary>
    private async Task StepAsync(IDatabase database, IDatabase reading, InboundStream stream, CancellationToken stoppingToken)
    {
        try
        {
            if (!stream.GroupReady)
            {
                await CreateGroupAsync(database, stream);
            }

            if (Stopwatch.GetTimestamp() >= stream.NextSweep)
            {
                await ClaimAsync(database, stream);
                await ReadPendingAsync(database, stream);
                stream.NextSweep = Stopwatch.GetTimestamp() + (long)(_options.ClaimSweepInterval.TotalSeconds * Stopwatch.Frequency);
            }

            if (stoppingToken.IsCancellationRequested)
            {
                return;
            }

            if (stream.PendingCursor is { } cursor)
            {
                var own = await ReadAsync(reading, stream, cursor, block: null);
                stream.PendingCursor = own.Count == 0 ? null : own[^1].Id;
                await SettleAsync(database, stream, own);
            }
            else
            {
                await SettleAsync(database, stream, await ReadAsync(reading, stream, ">", BlockFor));
            }
        }
        catch (RedisServerException exception) when (IsNoGroup(exception))
        {
            // The stream or its group was deleted: create it again, at the stream's end.
            stream.GroupReady = false;
            throw;
        }
    }

    /// <summary>Handles entries in id order and acknowledges those settled; stops at the first that is not.</summary>
    private async Task SettleAsync(IDatabase database, InboundStream stream, IReadOnlyList<Entry> entries)
    {
        if (entries.Count == 0)
        {
            return;
        }

        metrics.StreamRead(stream.Key, entries.Count);
        var settled = new List<RedisValue>(entries.Count);
        try
        {
            foreach (var entry in entries)
            {
                string? notSettled;
                try
                {
                    notSettled = await HandleAsync(stream, entry);
                }
                catch (Exception exception)
                {
                    // Even the dead letter could not be stored (the database refuses writes): the entry stays pending.
                    notSettled = exception.Message;
                }

                if (notSettled is not null)
                {
                    // The rest stay pending too, and are read again after this one, in order.
                    stream.PendingCursor = "0";
                    throw new EntryNotSettledException($"entry {entry.Id} was not applied and stays pending: {notSettled}");
                }

                settled.Add(entry.Id);
            }
        }
        finally
        {
            if (settled.Count > 0)
            {
                await database.StreamAcknowledgeAsync(stream.Key, _options.ConsumerGroup, [.. settled]);
                metrics.StreamAcknowledged(stream.Key, settled.Count);
            }
        }
    }

    /// <summary>Applies one entry or stores it as a dead letter; returns why not when it could do neither.</summary>
    private async Task<string?> HandleAsync(InboundStream stream, Entry entry)
    {
        if (entry.Fields is null)
        {
            // Deleted (trimmed) while it was pending: there is nothing left to apply.
            return null;
        }

        var origin = InboundOrigin.Stream(stream.Key);
        var payload = entry.Fields.FirstOrDefault(field => field.Name == Wire.StreamPayloadField).Value;
        if (payload.IsNull)
        {
            await inbound.DeadLetterAsync(origin, Render(entry.Fields), $"entry has no '{Wire.StreamPayloadField}' field", entry.Id, CancellationToken.None);
            metrics.StreamDeadLettered(stream.Key);
            return null;
        }

        // Not the stopping token: an entry that was taken is finished during shutdown.
        var (outcome, error) = await inbound.HandleEntryAsync(stream.Key, (byte[])payload!, entry.Id, CancellationToken.None);
        switch (outcome)
        {
            case InboundOutcome.Applied:
                stream.Failing = default;
                return null;
            case InboundOutcome.DeadLettered:
                stream.Failing = default;
                metrics.StreamDeadLettered(stream.Key);
                return null;
            case InboundOutcome.Unavailable:
                // An outage spends no attempts: the entry waits for the database however long it takes.
                return error;
        }

        var attempts = stream.Failing.Id == entry.Id ? stream.Failing.Attempts + 1 : 1;
        if (attempts < MaxAttempts)
        {
            stream.Failing = (entry.Id, attempts);
            return error;
        }

        stream.Failing = default;
        await inbound.DeadLetterAsync(origin, (byte[])payload!, $"failed {attempts} times: {error}", entry.Id, CancellationToken.None);
        metrics.StreamDeadLettered(stream.Key);
        return null;
    }

    // Entries pending on any consumer (this one included) for longer than the idle time change hands to this one.
    private async Task ClaimAsync(IDatabase database, InboundStream stream)
    {
        RedisValue start = "0-0";
        do
        {
            var claim = await database.StreamAutoClaimAsync(
                stream.Key, _options.ConsumerGroup, ConsumerName, (long)_options.ClaimIdleTime.TotalMilliseconds, start, BatchSize);
            if (claim.ClaimedEntries.Length > 0)
            {
                metrics.StreamClaimed(stream.Key, claim.ClaimedEntries.Length);
                LogClaimed(claim.ClaimedEntries.Length, stream.Key);
                await SettleAsync(database, stream, [.. claim.ClaimedEntries.Select(entry => new Entry((string)entry.Id!, entry.Values))]);
            }

            start = claim.NextStartId;
        }
        while (start != "0-0");
    }

    private async Task CreateGroupAsync(IDatabase database, InboundStream stream)
    {
        try
        {
            await database.StreamCreateConsumerGroupAsync(stream.Key, _options.ConsumerGroup, StreamPosition.NewMessages, createStream: true);
            LogGroupCreated(_options.ConsumerGroup, stream.Key);
        }
        catch (RedisServerException exception) when (exception.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
            // Another instance, or an earlier start, created it.
        }

        stream.GroupReady = true;
        LogConsuming(stream.Key, _options.ConsumerGroup, ConsumerName);
    }

    private async Task<long> ReadPendingAsync(IDatabase database, InboundStream stream)
    {
        var pending = (await database.StreamPendingAsync(stream.Key, _options.ConsumerGroup)).PendingMessageCount;
        metrics.StreamPending(stream.Key, _options.ConsumerGroup, pending);
        return pending;
    }

    // XREADGROUP through Execute: the typed method cannot block. RESP3 answers a map of stream to entries, RESP2
    // an array of [stream, entries] pairs; an entry deleted while pending comes with no fields.
    private async Task<IReadOnlyList<Entry>> ReadAsync(IDatabase reading, InboundStream stream, string position, TimeSpan? block)
    {
        object[] arguments = block is { } wait
            ? ["GROUP", _options.ConsumerGroup, ConsumerName, "COUNT", BatchSize, "BLOCK", (long)wait.TotalMilliseconds, "STREAMS", (RedisKey)stream.Key, position]
            : ["GROUP", _options.ConsumerGroup, ConsumerName, "COUNT", BatchSize, "STREAMS", (RedisKey)stream.Key, position];
        var reply = await reading.ExecuteAsync("XREADGROUP", arguments);
        if (reply.IsNull)
        {
            return [];
        }

        var streams = (RedisResult[])reply!;
        var entries = (RedisResult[])(reply.Resp3Type == ResultType.Map ? streams[1] : ((RedisResult[])streams[0]!)[1])!;
        return [.. entries.Select(entry =>
        {
            var parts = (RedisResult[])entry!;
            NameValueEntry[]? fields = parts[1].IsNull
                ? null
                : [.. ((RedisResult[])parts[1]!).Chunk(2).Select(pair => new NameValueEntry((RedisValue)pair[0], (RedisValue)pair[1]))];
            return new Entry((string)parts[0]!, fields);
        })];
    }

    /// <summary>Why the server cannot carry the streams transport, naming what to do; null when it can.</summary>
    private async Task<string?> MissingStreamsAsync(IConnectionMultiplexer multiplexer)
    {
        if (redis.RunsEmbeddedBroker)
        {
            return $"Messaging:Transport={_options.Transport} needs Redis streams, and the embedded broker (started because no Redis answered at "
                + $"{string.Join(",", multiplexer.GetEndPoints().Select(endpoint => endpoint.ToString()))}) has none: run a real Redis 6.2 or later "
                + "there (ConnectionStrings:Redis), or set Messaging:Transport=PubSub.";
        }

        string[] missing;
        try
        {
            var info = (RedisResult[])(await multiplexer.GetDatabase().ExecuteAsync("COMMAND", ["INFO", .. StreamCommands]))!;
            missing = [.. StreamCommands.Where((_, i) => i >= info.Length || info[i].IsNull)];
        }
        catch (RedisServerException exception)
        {
            missing = [$"COMMAND INFO ({exception.Message})"];
        }

        _streamsChecked = missing.Length == 0;
        return missing.Length == 0
            ? null
            : $"Messaging:Transport={_options.Transport} needs Redis streams, and the server at ConnectionStrings:Redis does not know {string.Join(", ", missing)}: "
                + "run a real Redis 6.2 or later, or set Messaging:Transport=PubSub.";
    }

    // Every start is a new consumer; one that stops with nothing pending leaves the group rather than linger in it.
    private async Task LeaveGroupIfIdleAsync(IDatabase database, InboundStream stream)
    {
        try
        {
            var pending = await database.StreamPendingAsync(stream.Key, _options.ConsumerGroup);
            if (!pending.Consumers.Any(consumer => consumer.Name == ConsumerName && consumer.PendingMessageCount > 0))
            {
                await database.StreamDeleteConsumerAsync(stream.Key, _options.ConsumerGroup, ConsumerName);
            }
        }
        catch (Exception exception) when (exception is RedisException or RedisTimeoutException)
        {
            // Redis is away: the consumer stays listed, with nothing pending.
        }
    }

    /// <summary>The fields of an entry without a payload, as a JSON object of strings, so that the dead letter shows what came.</summary>
    private static byte[] Render(NameValueEntry[] fields)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var field in fields)
            {
                writer.WriteString(field.Name.ToString(), field.Value.ToString());
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static bool IsNoGroup(RedisServerException exception) => exception.Message.StartsWith("NOGROUP", StringComparison.Ordinal);

    [LoggerMessage(LogLevel.Information, "Consuming stream {Stream} in consumer group {Group} as {Consumer}")]
    private partial void LogConsuming(string stream, string group, string consumer);

    [LoggerMessage(LogLevel.Information, "Created consumer group {Group} at the end of stream {Stream}")]
    private partial void LogGroupCreated(string group, string stream);

    [LoggerMessage(LogLevel.Information, "Claimed {Count} entries of stream {Stream} left pending by a consumer that did not acknowledge them")]
    private partial void LogClaimed(int count, string stream);

    [LoggerMessage(LogLevel.Warning, "Stream {Stream} is not being consumed: {Reason}; its entries stay pending and are tried again with backoff")]
    private partial void LogFailing(string stream, string reason);

    [LoggerMessage(LogLevel.Information, "Stream {Stream} is consumed again after {Attempts} failed attempts")]
    private partial void LogRecovered(string stream, int attempts);

    [LoggerMessage(LogLevel.Critical, "The service stops: {Reason}")]
    private partial void LogStreamsMissing(string reason);

    /// <summary>One inbound stream's state, read by the readiness check.</summary>
    private sealed class InboundStream(string key)
    {
        public string Key { get; } = key;

        public volatile bool GroupReady;

        public volatile ConnectionMultiplexer? Connection;

        /// <summary>Where reading this consumer's own pending entries has got to; null once they are done and new entries are read.</summary>
        public string? PendingCursor = "0";

        public long NextSweep;

        /// <summary>The entry that keeps failing (it is always the first pending one), and how often it failed.</summary>
        public (string? Id, int Attempts) Failing;
    }

    private readonly record struct Entry(string Id, NameValueEntry[]? Fields);

    private sealed class EntryNotSettledException(string message) : Exception(message);
}

/// <summary>One inbound stream's consumer group as readiness reports it.</summary>
/// <param name="Connected">Both the shared connection and the stream's own reading connection are up.</param>
/// <param name="GroupExists">Redis answered XPENDING for the group.</param>
/// <param name="Pending">Entries delivered to the group and not acknowledged, when known.</param>
/// <param name="Consuming">The consumer has joined the group (created it, or found it).</param>
public sealed record InboundStreamStatus(
    string Stream, string Group, string Consumer, bool Connected, bool GroupExists, long? Pending, bool Consuming, string? Problem);
