using System.Text.Json;
using Allocation.Domain;
using Mediator;

namespace Allocation.Infrastructure.Outbox;

/// <summary>
/// Stores domain events as JSON named by their type. Every event type of the domain is known by
/// reflection, so a new event needs no registration here.
/// </summary>
internal static class EventSerializer
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    private static readonly Dictionary<string, Type> Types = typeof(Allocated).Assembly.GetTypes()
        .Where(type => type is { IsClass: true, IsAbstract: false } && typeof(INotification).IsAssignableFrom(type))
        .ToDictionary(type => type.Name, StringComparer.Ordinal);

    /// <summary>Every event type's name; the outbox dispatches each type as its own ordered lane.</summary>
    public static IReadOnlyCollection<string> EventTypes => Types.Keys;

    public static (string Type, string Payload) Serialize(INotification @event)
    {
        var type = @event.GetType();
        return (type.Name, JsonSerializer.Serialize(@event, type, Options));
    }

    /// <exception cref="JsonException">The payload does not describe an event of that type.</exception>
    public static INotification Deserialize(string type, string payload) =>
        Types.TryGetValue(type, out var eventType)
            ? JsonSerializer.Deserialize(payload, eventType, Options) as INotification
              ?? throw new JsonException($"Outbox payload of type {type} is null.")
            : throw new JsonException($"Unknown event type {type}.");
}
