using Allocation.Application.Ports;

namespace Allocation.UnitTests.Fakes;

public sealed class FakeNotifier : INotifier
{
    private readonly List<SentNotification> _sent = [];

    public IReadOnlyList<SentNotification> Sent => _sent;

    /// <summary>When set, sending fails with this exception, as when the mail server is down.</summary>
    public Exception? Failure { get; set; }

    public ValueTask NotifyStockTeamAsync(string subject, string body, string messageId, CancellationToken cancellationToken)
    {
        if (Failure is not null)
        {
            throw Failure;
        }

        _sent.Add(new SentNotification(subject, body, messageId));
        return ValueTask.CompletedTask;
    }
}

public sealed record SentNotification(string Subject, string Body, string MessageId);
