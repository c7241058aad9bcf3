namespace Allocation.Application.Bus;

/// <summary>
/// The outbox entry being dispatched in the current scope. Its <see cref="MessageId"/> is fixed when the
/// event is committed, so every re-send of the event carries the same id.
/// </summary>
/// <remarks>
/// The dispatcher sends many entries of one lane at once, each in its own scope, and they must reach
/// the transport in commit order whatever the handlers await on the way. So each entry waits for its
/// turn (<see cref="SendInTurnAsync"/>): it hands its message over only after the entry before it did,
/// and lets the next one go as soon as its own is handed over, without waiting for the reply. A
/// transport that keeps the order of what it is handed (a Redis connection does) then delivers in
/// commit order, and the sends still overlap.
/// </remarks>
public sealed class EventContext
{
    private static readonly Task<bool> Free = Task.FromResult(true);

    private string? _messageId;
    private Task<bool> _previous = Free;
    private TaskCompletionSource<bool>? _handedOver;

    public string MessageId
    {
        get => _messageId ?? throw new InvalidOperationException("Events are dispatched from the outbox, which sets the message id first.");
        set => _messageId = value;
    }

    /// <summary>
    /// Places this entry after another in its lane: <paramref name="previous"/> completes with whether
    /// that entry was handed over; <paramref name="handedOver"/> tells the next entry about this one.
    /// </summary>
    public void FollowAfter(Task<bool> previous, TaskCompletionSource<bool> handedOver)
    {
        _previous = previous;
        _handedOver = handedOver;
    }

    /// <summary>
    /// Calls <paramref name="send"/> in this entry's turn and awaits what it returned. When an earlier
    /// entry was not handed over, this one is not sent either, so that nothing overtakes it.
    /// </summary>
    public async ValueTask SendInTurnAsync(Func<Task> send)
    {
        if (!await _previous)
        {
            _handedOver?.TrySetResult(false);
            throw new NotInTurnException();
        }

        Task sending;
        try
        {
            sending = send();
        }
        catch
        {
            _handedOver?.TrySetResult(false);
            throw;
        }

        _handedOver?.TrySetResult(true);
        await sending;
    }

    /// <summary>The entry was not sent because an earlier one of its lane was not; it goes when that one does.</summary>
    public sealed class NotInTurnException() : Exception("Not sent: an earlier event of its lane was not sent, and nothing may overtake it.");
}
