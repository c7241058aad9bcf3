using Allocation.Application.Ports;

namespace Allocation.Application.Bus;

/// <summary>
/// The properties a message is logged with: its type and the <see cref="MessageKeys"/> it names, as
/// <c>orderid</c>, <c>sku</c> and <c>batchref</c>.
/// </summary>
internal static class LogProperties<TMessage>
{
    public static KeyValuePair<string, object?>[] Of(TMessage message)
    {
        var keys = MessageKeys.Of(message);
        var properties = new List<KeyValuePair<string, object?>>(4) { new("message_type", typeof(TMessage).Name) };
        if (keys.OrderId is not null)
        {
            properties.Add(new("orderid", keys.OrderId));
        }

        if (keys.Sku is not null)
        {
            properties.Add(new("sku", keys.Sku));
        }

        if (keys.BatchRef is not null)
        {
            properties.Add(new("batchref", keys.BatchRef));
        }

        return [.. properties];
    }
}
