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

/// <summary>Configuration section <c>Messaging</c>: channel names and inbound limits.</summary>
public sealed class MessagingOptions
{
    public const string Section = "Messaging";

    [Required(AllowEmptyStrings = false, ErrorMessage = "Messaging:InboundChannel must name a Redis channel.")]
    public string InboundChannel { get; set; } = "change_batch_quantity";

    [Required(AllowEmptyStrings = false, ErrorMessage = "Messaging:OutboundChannel must name a Redis channel.")]
    public string OutboundChannel { get; set; } = "line_allocated";

    [Required(AllowEmptyStrings = false, ErrorMessage = "Messaging:DeallocatedChannel must name a Redis channel.")]
    public string DeallocatedChannel { get; set; } = "line_deallocated";

    /// <summary>The channel each outbound topic goes out on.</summary>
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
