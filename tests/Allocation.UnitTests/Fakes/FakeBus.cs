using Allocation.Application.Bus;
using Allocation.Application.Ports;
using Allocation.Domain;
using Allocation.Web;
using Mediator;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Allocation.UnitTests.Fakes;

/// <summary>
/// The service's real bus over fakes of its ports. Commands are sent in a scope of their own, as the
/// HTTP endpoints and the Redis subscriber send them; <see cref="DispatchAsync"/> stands in for the
/// outbox dispatcher, publishing committed events one scope and message id each until none are left.
/// </summary>
public sealed class FakeBus : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly List<DispatchedEvent> _dispatched = [];
    private int _messageIds;

    public FakeBus(params Product[] products)
    {
        UnitOfWork = new FakeUnitOfWork(products);
        var services = new ServiceCollection().AddLogging(logging => logging.AddProvider(Log).SetMinimumLevel(LogLevel.Trace)).AddAllocationBus();
        services.AddSingleton<IUnitOfWork>(UnitOfWork);
        services.AddSingleton<IEventPublisher>(Publisher);
        services.AddSingleton<INotifier>(Notifier);
        services.AddSingleton<IReadModel>(ReadModel);
        services.AddSingleton<IDeadLetters>(DeadLetters);
        services.AddSingleton<IReplayer>(Replayer);
        _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
    }

    public FakeUnitOfWork UnitOfWork { get; }

    public FakeEventPublisher Publisher { get; } = new();

    public FakeNotifier Notifier { get; } = new();

    public FakeReadModel ReadModel { get; } = new();

    public FakeDeadLetters DeadLetters { get; } = new();

    /// <summary>The one replayer, for dead letters of <c>redis:change_batch_quantity</c>.</summary>
    public FakeReplayer Replayer { get; } = new("redis:change_batch_quantity");

    public FakeLog Log { get; } = new();

    public IReadOnlyList<DispatchedEvent> Dispatched => _dispatched;

    public async Task<TResponse> SendAsync<TResponse>(ICommand<TResponse> command)
    {
        await using var scope = _services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ISender>().Send(command);
    }

    /// <summary>Sends a query or request in a scope of its own.</summary>
    public async Task<TResponse> AskAsync<TResponse>(IRequest<TResponse> request)
    {
        await using var scope = _services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ISender>().Send(request);
    }

    public async Task<TResponse> AskAsync<TResponse>(IQuery<TResponse> query)
    {
        await using var scope = _services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ISender>().Send(query);
    }

    public async Task SendAsync(ICommand command)
    {
        await using var scope = _services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ISender>().Send(command);
    }

    /// <summary>Sends each command and dispatches what it committed, like a request followed by the outbox.</summary>
    public async Task HandleAsync(params IBaseCommand[] commands)
    {
        foreach (var command in commands)
        {
            await using (var scope = _services.CreateAsyncScope())
            {
                await scope.ServiceProvider.GetRequiredService<ISender>().Send(command);
            }

            await DispatchAsync();
        }
    }

    public async Task DispatchAsync()
    {
        while (UnitOfWork.TakeUndispatched() is { Count: > 0 } events)
        {
            foreach (var @event in events)
            {
                var messageId = $"message-{++_messageIds}";
                _dispatched.Add(new DispatchedEvent(@event, messageId));
                await PublishAsync(@event, messageId);
            }
        }
    }

    /// <summary>Publishes one event as the outbox does: typed as a notification, in a scope carrying its message id.</summary>
    public async Task PublishAsync(INotification @event, string messageId)
    {
        await using var scope = _services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<EventContext>().MessageId = messageId;
        await scope.ServiceProvider.GetRequiredService<IPublisher>().Publish(@event);
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}

public sealed record DispatchedEvent(INotification Event, string MessageId);
