using System.Reflection;

namespace Allocation.Application.Ports;

/// <summary>
/// What a message is about: the order, SKU and batch it names (any may be absent), read from its
/// properties of those names (<c>OrderId</c>, <c>Sku</c>, <c>Reference</c>/<c>BatchReference</c>).
/// Logs carry them, so one order can be followed through HTTP, handlers and events; the unit of work
/// uses them to lock and read ahead, for a whole commit group at once, what its commands will need.
/// </summary>
public sealed record MessageKeys(string? OrderId, string? Sku, string? BatchRef)
{
    public static readonly MessageKeys None = new(null, null, null);

    public static MessageKeys Of<TMessage>(TMessage message) => Reader<TMessage>.Read(message);

    private static class Reader<TMessage>
    {
        private static readonly PropertyInfo? OrderId = Find("OrderId");
        private static readonly PropertyInfo? Sku = Find("Sku");
        private static readonly PropertyInfo? BatchRef = Find("Reference") ?? Find("BatchReference");

        public static MessageKeys Read(TMessage message) =>
            OrderId is null && Sku is null && BatchRef is null
                ? None
                : new MessageKeys(OrderId?.GetValue(message) as string, Sku?.GetValue(message) as string, BatchRef?.GetValue(message) as string);

        private static PropertyInfo? Find(string name) =>
            typeof(TMessage).GetProperty(name, BindingFlags.Public | BindingFlags.Instance) is { PropertyType: var type } property && type == typeof(string)
                ? property
                : null;
    }
}
