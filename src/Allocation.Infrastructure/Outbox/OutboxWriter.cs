using System.Data.Common;
using Allocation.Infrastructure.Persistence;
using Mediator;

namespace Allocation.Infrastructure.Outbox;

/// <summary>Appends events to the outbox inside the unit of work that raised them.</summary>
internal sealed class OutboxWriter(WriteUnit unit, TimeProvider time)
{
    public void Append(DbConnection connection, IReadOnlyList<INotification> events)
    {
        if (events.Count == 0)
        {
            return;
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var @event in events)
        {
            var (type, payload) = EventSerializer.Serialize(@event);
            OutboxStore.Append(connection, Guid.CreateVersion7().ToString(), type, payload, now);
        }

        unit.RecordOutbox(events);
    }
}
