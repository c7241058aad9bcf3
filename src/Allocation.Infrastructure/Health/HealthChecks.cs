using Allocation.Infrastructure.Outbox;
using Allocation.Infrastructure.Persistence;
using Allocation.Infrastructure.Redis;
using Dapper;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Allocation.Infrastructure.Health;

/// <summary>
/// Readiness: the database takes a real write, committed on the shared writer: this instance's row of
/// <c>heartbeats</c>. A check that wrote nothing would pass on a full disk.
/// </summary>
internal sealed class DatabaseWritableCheck(ISqlDatabase database, Writer writer, TimeProvider time) : IHealthCheck
{
    /// <summary>How long after writes were refused readiness still fails: a nearly full disk takes a heartbeat but not a change.</summary>
    public static readonly TimeSpan OutageMemory = TimeSpan.FromSeconds(5);

    private readonly string _instance = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await writer.WriteAsync(
                connection => connection.Execute(
                    "INSERT INTO heartbeats (instance, beat_at) VALUES (@instance, @now) ON CONFLICT (instance) DO UPDATE SET beat_at = excluded.beat_at",
                    new { instance = _instance, now = time.GetUtcNow().ToUnixTimeMilliseconds() }),
                cancellationToken);
            if (writer.LastOutage is { } outage && time.GetUtcNow() - outage.At < OutageMemory)
            {
                return HealthCheckResult.Unhealthy($"{database.Description} refused writes {(time.GetUtcNow() - outage.At).TotalSeconds:0.0} s ago: {outage.Reason}");
            }

            return HealthCheckResult.Healthy($"{database.Description} takes writes.");
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"{database.Description} does not take writes: {exception.Message}");
        }
    }
}

/// <summary>Readiness: Redis (or the embedded broker) is connected.</summary>
internal sealed class RedisConnectedCheck(RedisConnection redis) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(redis.IsConnected
            ? HealthCheckResult.Healthy(redis.RunsEmbeddedBroker ? "Connected to the embedded broker." : "Connected.")
            : HealthCheckResult.Unhealthy("Redis is not connected; outbound events wait in the outbox."));
}

/// <summary>
/// Readiness: the inbound channels are subscribed and their connection is up, so upstream messages are
/// received; an instance standing by while another leads is ready too, and so is one that does not use pub/sub.
/// </summary>
internal sealed class InboundSubscribedCheck(
    RedisCommandSubscriber subscriber, RedisConnection redis, LeaderElection leader, IOptions<MessagingOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(
            !options.Value.UsesPubSub ? HealthCheckResult.Healthy($"Pub/sub is not used (Messaging:Transport={options.Value.Transport}).")
            : !leader.IsLeader ? HealthCheckResult.Healthy("Standing by: another instance consumes the inbound channels.")
            : !redis.IsConnected ? HealthCheckResult.Unhealthy("The inbound channels' connection is down; messages published meanwhile are lost.")
            : subscriber.IsListening ? HealthCheckResult.Healthy("Subscribed to the inbound channels.")
            : HealthCheckResult.Unhealthy("Not yet subscribed to the inbound channels."));
}

/// <summary>
/// Readiness: each inbound stream's consumer group exists and this consumer reads it, over connections that
/// are up. Reports the group, this consumer's name and the group's pending entries (delivered, not yet
/// acknowledged). Ready when streams are not used.
/// </summary>
internal sealed class InboundStreamsCheck(RedisStreamConsumer consumer, IOptions<MessagingOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!options.Value.UsesStreams)
        {
            return HealthCheckResult.Healthy($"Streams are not used (Messaging:Transport={options.Value.Transport}).");
        }

        var statuses = await consumer.DescribeAsync();
        var data = new Dictionary<string, object>();
        foreach (var status in statuses)
        {
            data[status.Stream] = new Dictionary<string, object?>
            {
                ["group"] = status.Group,
                ["consumer"] = status.Consumer,
                ["group_exists"] = status.GroupExists,
                ["pending"] = status.Pending,
                ["connected"] = status.Connected,
                ["consuming"] = status.Consuming,
            };
        }

        var problems = statuses
            .Select(status =>
                !status.Connected ? $"{status.Stream}: the stream's connection is down; entries wait in the stream"
                : !status.GroupExists ? $"{status.Stream}: {status.Problem}"
                : !status.Consuming ? $"{status.Stream}: not yet reading through group {status.Group}"
                : null)
            .OfType<string>()
            .ToList();
        return problems.Count == 0
            ? HealthCheckResult.Healthy($"Consuming {string.Join(", ", statuses.Select(status => status.Stream))} in group {options.Value.ConsumerGroup}.", data)
            : HealthCheckResult.Unhealthy(string.Join("; ", problems), data: data);
    }
}

/// <summary>Readiness: the outbox is not backing up beyond <see cref="OutboxOptions.MaxBacklog"/>.</summary>
internal sealed class OutboxBacklogCheck(OutboxStore store, IOptions<OutboxOptions> options, TimeProvider time) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var (count, oldest) = store.Backlog();
        var age = oldest is { } created ? time.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(created) : TimeSpan.Zero;
        var data = new Dictionary<string, object> { ["pending"] = count, ["oldest_age_seconds"] = Math.Round(age.TotalSeconds, 1) };
        return Task.FromResult(count <= options.Value.MaxBacklog
            ? HealthCheckResult.Healthy($"{count} events waiting.", data)
            : HealthCheckResult.Unhealthy($"{count} events waiting, more than {options.Value.MaxBacklog}.", data: data));
    }
}
