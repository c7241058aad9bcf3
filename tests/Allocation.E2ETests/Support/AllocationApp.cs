using Allocation.Infrastructure.Redis;
using Allocation.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Allocation.E2ETests.Support;

/// <summary>
/// The real service in-process (the whole ASP.NET pipeline through <see cref="WebApplicationFactory{TEntryPoint}"/>)
/// on a fresh SQLite file. Without a Redis it points at a closed port: HTTP works and events wait in the outbox.
/// Channel names are unique per instance so tests sharing a Redis do not hear each other.
/// </summary>
public sealed class AllocationApp : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;

    public AllocationApp(string? redis = null, IDictionary<string, string?>? settings = null, TestDatabase? database = null)
    {
        Database = database ?? new TestDatabase();
        OwnsDatabase = database is null;
        var suffix = Guid.NewGuid().ToString("N")[..8];
        InboundChannel = $"change_batch_quantity.{suffix}";
        OutboundChannel = $"line_allocated.{suffix}";
        DeallocatedChannel = $"line_deallocated.{suffix}";
        _settings = new(StringComparer.Ordinal)
        {
            ["ConnectionStrings:Allocation"] = Database.ConnectionString,
            ["ConnectionStrings:Redis"] = redis ?? $"127.0.0.1:{RedisTestServer.FreePort()},connectTimeout=500",
            ["Redis:Embedded"] = "false",
            ["Messaging:InboundChannel"] = InboundChannel,
            ["Messaging:OutboundChannel"] = OutboundChannel,
            ["Messaging:DeallocatedChannel"] = DeallocatedChannel,
            ["Outbox:PollIntervalMs"] = "200",
            ["Logging:Json"] = "false",
            ["Serilog:MinimumLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }

        // A test may name the channels itself, e.g. so that a second service reads the stream the first one did.
        InboundChannel = _settings["Messaging:InboundChannel"]!;
        OutboundChannel = _settings["Messaging:OutboundChannel"]!;
        DeallocatedChannel = _settings["Messaging:DeallocatedChannel"]!;
    }

    public TestDatabase Database { get; }

    /// <summary>
    /// Waits until the service has subscribed to its inbound channel: a message published before that
    /// is not received (pub/sub keeps nothing for late subscribers).
    /// </summary>
    public async Task WaitUntilListeningAsync(TimeSpan timeout)
    {
        var subscriber = Services.GetRequiredService<RedisCommandSubscriber>();
        var deadline = DateTime.UtcNow + timeout;
        while (!subscriber.IsListening)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The service did not subscribe to {InboundChannel} within {timeout.TotalSeconds:0} s.");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Waits until the service reads its inbound stream through its consumer group: the group is created at the
    /// stream's end, so an entry added before that is not delivered.
    /// </summary>
    public async Task WaitUntilConsumingAsync(TimeSpan timeout)
    {
        var consumer = Services.GetRequiredService<RedisStreamConsumer>();
        await Eventually.Until(
            async () => (await consumer.DescribeAsync()).All(stream => stream.Consuming),
            consuming => consuming,
            $"the service to read {InboundChannel} through its consumer group",
            timeout);
    }

    /// <summary>The inbound channel, which is also the key of the inbound stream.</summary>
    public string InboundChannel { get; }

    public string OutboundChannel { get; }

    public string DeallocatedChannel { get; }

    private bool OwnsDatabase { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && OwnsDatabase)
        {
            Database.Dispose();
        }
    }
}
