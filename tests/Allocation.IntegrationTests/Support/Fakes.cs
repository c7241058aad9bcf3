using Allocation.Application.Ports;

namespace Allocation.IntegrationTests.Support;

/// <summary>Stands in for Redis: records what was published, after failing the first <c>failures</c> calls.</summary>
internal sealed class RecordingEventPublisher(int failures = 0) : IEventPublisher
{
    private readonly Lock _lock = new();
    private readonly List<(Topic Topic, LineMessage Message)> _sent = [];
    private int _failuresLeft = failures;

    public int FailedCalls { get; private set; }

    /// <summary>What went out on <c>line_allocated</c>.</summary>
    public IReadOnlyList<LineMessage> Published => Sent.Where(sent => sent.Topic == Topic.LineAllocated).Select(sent => sent.Message).ToList();

    /// <summary>Everything that went out, on every topic, in order.</summary>
    public IReadOnlyList<(Topic Topic, LineMessage Message)> Sent
    {
        get
        {
            lock (_lock)
            {
                return [.. _sent];
            }
        }
    }

    public ValueTask PublishAsync(Topic topic, LineMessage message, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_failuresLeft > 0)
            {
                _failuresLeft--;
                FailedCalls++;
                throw new UnavailableException("The destination is down.");
            }

            _sent.Add((topic, message));
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Stands in for e-mail: records every message, or fails every call when the mail server is down, or
/// refuses (as a server answering 5xx) the messages <paramref name="refuses"/> picks by subject.
/// </summary>
internal sealed class RecordingNotifier(bool down = false, Func<string, bool>? refuses = null) : INotifier
{
    private readonly Lock _lock = new();
    private readonly List<Notification> _sent = [];

    public int FailedCalls { get; private set; }

    /// <summary>Which subjects the server refuses; settable, so a test can fix the server and replay.</summary>
    public Func<string, bool>? Refuses { get; set; } = refuses;

    /// <summary>Whether the server cannot be reached at all.</summary>
    public bool Down { get; set; } = down;

    public IReadOnlyList<Notification> Sent
    {
        get
        {
            lock (_lock)
            {
                return [.. _sent];
            }
        }
    }

    public ValueTask NotifyStockTeamAsync(string subject, string body, string messageId, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (Down)
            {
                FailedCalls++;
                throw new UnavailableException("The mail server is down.");
            }

            if (Refuses?.Invoke(subject) == true)
            {
                FailedCalls++;
                throw new InvalidOperationException("550 mailbox unavailable");
            }

            _sent.Add(new Notification(subject, body, messageId));
        }

        return ValueTask.CompletedTask;
    }
}

internal sealed record Notification(string Subject, string Body, string MessageId);
