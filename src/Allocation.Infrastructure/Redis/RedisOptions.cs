using System.ComponentModel.DataAnnotations;
using Allocation.Application.Ports;

namespace Allocation.Infrastructure.Redis;

/// <summary>Configuration: <c>ConnectionStrings:Redis</c> and section <c>Redis</c>.</summary>
public sealed class RedisOptions
{
    public const string Section = "Redis";

    /// <summary>A StackExchange.Redis configuration string; password and TLS go here (<c>password=…,ssl=true</c>).</summary>
    [Required(ErrorMessage = "ConnectionStrings:Redis must be a StackExchange.Redis configuration string, e.g. \"localhost:6379\".")]
    public string ConnectionString { get; set; } = "localhost:6379";

    /// <summary>Start an in-process broker when nothing answers at a loopback address (Development default).</summary>
    public bool Embedded { get; set; }
}

/// <summary>Configuration section <c>Messaging</c>: the transport, channel (and stream) names, inbound limits.</summary>
public sealed class MessagingOptions
{
    public const string Section = "Messaging";

    /// <summary>Pub/sub, streams, or both in and out.</summary>
    [EnumDataType(typeof(MessagingTransport), ErrorMessage = "Messaging:Transport must be PubSub, Streams or Both.")]
    public MessagingTransport Transport { get; set; } = MessagingTransport.PubSub;

    /// <summary>The consumer group every instance reads the inbound streams through, so that they share the entries.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Messaging:ConsumerGroup must name a consumer group.")]
    public string ConsumerGroup { get; set; } = "allocation";

    /// <summary>
    /// The length outbound streams are trimmed to, approximately (<c>XADD … MAXLEN ~</c>): Redis trims whole
    /// nodes, so a stream may hold somewhat more. At about 200 bytes an entry, 100,000 keep some 20 MB.
    /// </summary>
    [Range(1, long.MaxValue, ErrorMessage = "Messaging:StreamMaxLength must be a positive number of entries.")]
    public long StreamMaxLength { get; set; } = 100_000;

    /// <summary>
    /// How long an inbound entry stays pending on a consumer that does not acknowledge it before another
    /// consumer claims it: long enough that a live consumer is never robbed of an entry it is applying.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00", ErrorMessage = "Messaging:ClaimIdleTime must be between 00:00:00.100 and 1.00:00:00.")]
    public TimeSpan ClaimIdleTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a consumer looks for entries to claim: half the idle time, between 0.1 s and 5 s.</summary>
    public TimeSpan ClaimSweepInterval =>
        TimeSpan.FromTicks(Math.Clamp(ClaimIdleTime.Ticks / 2, TimeSpan.FromMilliseconds(100).Ticks, TimeSpan.FromSeconds(5).Ticks));

    public bool UsesPubSub => Transport is MessagingTransport.PubSub or MessagingTransport.Both;

    public bool UsesStreams => Transport is MessagingTransport.Streams or MessagingTransport.Both;

    [Required(AllowEmptyStrings = false, ErrorMessage = "Messaging:InboundChannel must name a Redis channel.")]
    public string InboundChannel { get; set; } = "change_batch_quantity";

    [Required(AllowEmptyStrings = false, ErrorMessage = "Messaging:OutboundChannel must name a Redis channel.")]
    public string OutboundChannel { get; set; } = "line_allocated";

    [Required(AllowEmptyStrings = false, ErrorMessage = "Messaging:DeallocatedChannel must name a Redis channel.")]
    public string DeallocatedChannel { get; set; } = "line_deallocated";

    /// <summary>The channel each outbound topic goes out on, which is also the key of its stream.</summary>
    public string ChannelOf(Topic topic) => topic switch
    {
        Topic.LineAllocated => OutboundChannel,
        Topic.LineDeallocated => DeallocatedChannel,
        _ => throw new ArgumentOutOfRangeException(nameof(topic), topic, "No channel for this topic."),
    };

    /// <summary>Inbound messages larger than this are dead letters without being parsed.</summary>
    [Range(64, 16 * 1024 * 1024)]
    public int MaxInboundBytes { get; set; } = 64 * 1024;
}

/// <summary><c>Messaging:Transport</c>: how events travel in and out.</summary>
public enum MessagingTransport
{
    /// <summary>Redis pub/sub, the book's wire: cheap, and whatever nobody hears at that instant is lost.</summary>
    PubSub,

    /// <summary>Redis streams: durable, read through a consumer group, acknowledged once applied.</summary>
    Streams,

    /// <summary>In from the channel and the stream, out to both: for moving consumers over one at a time.</summary>
    Both,
}
