using Allocation.Application.Ports;

namespace Allocation.UnitTests.Fakes;

public sealed class FakeEventPublisher : IEventPublisher
{
    private readonly List<LineAllocated> _published = [];

    public IReadOnlyList<LineAllocated> Published => _published;

    /// <summary>When set, publishing fails with this exception, as when Redis is down.</summary>
    public Exception? Failure { get; set; }

    public ValueTask PublishAsync(LineAllocated message, CancellationToken cancellationToken)
    {
        if (Failure is not null)
        {
            throw Failure;
        }

        _published.Add(message);
        return ValueTask.CompletedTask;
    }
}
