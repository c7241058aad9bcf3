using Allocation.Application.Ports;

namespace Allocation.IntegrationTests.Support;

/// <summary>Stands in for Redis: records what was published, after failing the first <c>failures</c> calls.</summary>
internal sealed class RecordingEventPublisher(int failures = 0) : IEventPublisher
{
    private readonly Lock _lock = new();
    private readonly List<LineMessage> _published = [];
    private int _failuresLeft = failures;

    public int FailedCalls { get; private set; }

    public IReadOnlyList<LineMessage> Published
    {
        get
        {
            lock (_lock)
            {
                return [.. _published];
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

            _published.Add(message);
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>Stands in for e-mail: records every message, or fails every call when the mail server is down.</summary>
internal sealed class RecordingNotifier(bool down = false) : INotifier
{
    private readonly Lock _lock = new();
    private readonly List<Notification> _sent = [];

    public int FailedCalls { get; private set; }

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
            if (down)
            {
                FailedCalls++;
                throw new UnavailableException("The mail server is down.");
            }

            _sent.Add(new Notification(subject, body, messageId));
        }

        return ValueTask.CompletedTask;
    }
}

internal sealed record Notification(string Subject, string Body, string MessageId);
