using Allocation.Application.Ports;
using Allocation.Infrastructure;
using Allocation.Infrastructure.Outbox;
using Allocation.Infrastructure.Persistence;
using Allocation.Web;
using Mediator;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Allocation.IntegrationTests.Support;

/// <summary>
/// One copy of the service over a database file, composed as the host composes it, with no hosted service
/// running and a Redis address where nothing answers. Two instances over one file behave like two
/// processes: each has its own writer connection.
/// </summary>
internal sealed class ServiceInstance : IAsyncDisposable
{
    private readonly ServiceProvider _provider;
    private OutboxDispatcher? _dispatcher;
    private LeaderElection? _leader;

    private ServiceInstance(ServiceProvider provider, RecordingLoggerProvider logs)
    {
        _provider = provider;
        Logs = logs;
    }

    public IServiceProvider Services => _provider;

    public RecordingLoggerProvider Logs { get; }

    /// <param name="replace">Registrations made after the infrastructure's, which therefore win.</param>
    public static ServiceInstance Create(
        string connectionString,
        string databaseProvider = Providers.Sqlite,
        IDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? replace = null,
        bool migrate = true)
    {
        var values = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["ConnectionStrings:Allocation"] = connectionString,
            ["Database:Provider"] = databaseProvider,
            ["ConnectionStrings:Redis"] = "127.0.0.1:1,connectTimeout=200",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var logs = new RecordingLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddProvider(logs)).AddAllocationBus().AddInfrastructure(configuration);

        // What the host itself registers, which hosted services may ask for.
        services.AddSingleton<Microsoft.Extensions.Hosting.IHostApplicationLifetime, Microsoft.Extensions.Hosting.Internal.ApplicationLifetime>();
        replace?.Invoke(services);

        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
        if (migrate)
        {
            provider.GetRequiredService<ISqlDatabase>().Migrate();
        }

        return new ServiceInstance(provider, logs);
    }

    public AsyncServiceScope CreateScope() => _provider.CreateAsyncScope();

    /// <summary>Sends a command in a scope of its own, as one HTTP request or Redis message does.</summary>
    public async Task<TResponse> SendAsync<TResponse>(ICommand<TResponse> command)
    {
        await using var scope = CreateScope();
        return await scope.ServiceProvider.GetRequiredService<ISender>().Send(command);
    }

    /// <summary>Sends a request that is not a command (it runs no unit of work of its own), such as a replay.</summary>
    public async Task<TResponse> SendAsync<TResponse>(IRequest<TResponse> request)
    {
        await using var scope = CreateScope();
        return await scope.ServiceProvider.GetRequiredService<ISender>().Send(request);
    }

    /// <summary>Runs <paramref name="work"/> as one unit of work on the writer, as the pipeline runs a command.</summary>
    public async Task<T> InUnitAsync<T>(Func<UnitOfWork, Task<T>> work)
    {
        await using var scope = CreateScope();
        var uow = scope.ServiceProvider.GetRequiredService<UnitOfWork>();
        return await uow.RunAsync(MessageKeys.None, async _ => await work(uow), default);
    }

    public Task InUnitAsync(Func<UnitOfWork, Task> work) =>
        InUnitAsync(async uow =>
        {
            await work(uow);
            return true;
        });

    public async Task PublishAsync<TNotification>(TNotification notification)
        where TNotification : INotification
    {
        await using var scope = CreateScope();
        await scope.ServiceProvider.GetRequiredService<IPublisher>().Publish(notification);
    }

    /// <summary>Starts the outbox dispatcher, which dispatches once this instance leads.</summary>
    public async Task StartOutboxAsync()
    {
        _leader = _provider.GetRequiredService<LeaderElection>();
        await _leader.StartAsync(CancellationToken.None);
        _dispatcher = _provider.GetRequiredService<OutboxDispatcher>();
        await _dispatcher.StartAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        if (_dispatcher is not null)
        {
            await _dispatcher.StopAsync(CancellationToken.None);
        }

        if (_leader is not null)
        {
            await _leader.StopAsync(CancellationToken.None);
        }

        await _provider.DisposeAsync();
    }
}
