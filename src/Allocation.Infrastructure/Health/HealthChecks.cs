using Allocation.Infrastructure.Outbox;
using Allocation.Infrastructure.Persistence;
using Allocation.Infrastructure.Redis;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Allocation.Infrastructure.Health;

/// <summary>Readiness: the database takes a write (an empty unit on the shared writer, rolled back).</summary>
internal sealed class SqliteWritableCheck(SqliteWriter writer) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await writer.RunAsync(_ => ValueTask.FromResult(true), cancellationToken);
            return HealthCheckResult.Healthy("SQLite accepts writes.");
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("SQLite does not accept writes.", exception);
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

/// <summary>Readiness: the inbound channels are subscribed, so upstream messages are received.</summary>
internal sealed class InboundSubscribedCheck(RedisCommandSubscriber subscriber) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(subscriber.IsListening
            ? HealthCheckResult.Healthy("Subscribed to the inbound channels.")
            : HealthCheckResult.Unhealthy("Not yet subscribed to the inbound channels."));
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
