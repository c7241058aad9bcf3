using System.Reflection;

namespace Allocation.Application.Bus;

/// <summary>
/// The properties a message is logged with, so that one order can be followed through HTTP, handlers and
/// events: <c>orderid</c>, <c>sku</c> and <c>batchref</c>, taken from the message's properties of those names.
/// </summary>
internal static class LogProperties<TMessage>
{
    private static readonly (string Name, PropertyInfo Property)[] Properties =
        typeof(TMessage).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(property => (Name: LogNameOf(property), Property: property))
            .Where(pair => pair.Name is not null)
            .Select(pair => (pair.Name!, pair.Property))
            .ToArray();

    public static KeyValuePair<string, object?>[] Of(TMessage message)
    {
        var properties = new KeyValuePair<string, object?>[Properties.Length + 1];
        properties[0] = new("message_type", typeof(TMessage).Name);
        for (var i = 0; i < Properties.Length; i++)
        {
            properties[i + 1] = new(Properties[i].Name, Properties[i].Property.GetValue(message));
        }

        return properties;
    }

    private static string? LogNameOf(PropertyInfo property) => property.Name switch
    {
        "OrderId" => "orderid",
        "Sku" => "sku",
        "Reference" or "BatchReference" or "BatchRef" => "batchref",
        _ => null,
    };
}
