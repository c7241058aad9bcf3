using Allocation.Application.Ports;

namespace Allocation.UnitTests.Fakes;

public sealed class FakeEventPublisher : IEventPublisher
{
    private readonly List<LineMessage> _published = [];
    private readonly List<LineMessage> _deallocated = [];

    /// <summary>What went out on <c>line_allocated</c>.</summary>
    public IReadOnlyList<LineMessage> Published => _published;

    /// <summary>What went out on <c>line_deallocated</c>.</summary>
    public IReadOnlyList<LineMessage> Deallocated => _deallocated;

    /// <summary>When set, publishing fails with this exception, as when Redis is down.</summary>
    public Exception? Failure { get; set; }

    public ValueTask PublishAsync(Topic topic, LineMessage message, CancellationToken cancellationToken)
    {
        if (Failure is not null)
        {
            throw Failure;
        }

        (topic == Topic.LineAllocated ? _published : _deallocated).Add(message);
        return ValueTask.CompletedTask;
    }
}
