namespace Allocation.Application.Bus;

/// <summary>
/// The outbox entry being dispatched in the current scope. Its <see cref="MessageId"/> is fixed when the
/// event is committed, so every re-send of the event carries the same id.
/// </summary>
public sealed class EventContext
{
    private string? _messageId;

    public string MessageId
    {
        get => _messageId ?? throw new InvalidOperationException("Events are dispatched from the outbox, which sets the message id first.");
        set => _messageId = value;
    }
}
