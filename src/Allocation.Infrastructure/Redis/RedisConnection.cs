using Allocation.Infrastructure.Outbox;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Allocation.Infrastructure.Redis;

/// <summary>
/// The service's one Redis multiplexer. It never fails start-up: when Redis is away it keeps
/// reconnecting with backoff (StackExchange.Redis re-subscribes by itself), and each change between
/// connected and disconnected is logged once. In Development, when nothing answers at a loopback
/// address, it starts the embedded broker there first.
/// </summary>
public sealed partial class RedisConnection(IOptions<RedisOptions> options, OutboxSignal signal, ILogger<RedisConnection> logger) : IAsyncDisposable
{
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private ConnectionMultiplexer? _multiplexer;
    private EmbeddedBroker? _broker;
    private int _state = -1;

    public bool IsConnected => _multiplexer?.IsConnected == true;

    public bool RunsEmbeddedBroker => _broker is not null;

    public async ValueTask<IConnectionMultiplexer> ConnectAsync(CancellationToken cancellationToken)
    {
        if (_multiplexer is { } multiplexer)
        {
            return multiplexer;
        }

        await _connecting.WaitAsync(cancellationToken);
        try
        {
            return _multiplexer ??= await CreateAsync();
        }
        finally
        {
            _connecting.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_multiplexer is { } multiplexer)
        {
            await multiplexer.DisposeAsync();
        }

        _broker?.Dispose();
        _connecting.Dispose();
    }

    /// <summary>
    /// A connection of its own to the same server, for a consumer that blocks there (<c>XREADGROUP … BLOCK</c>):
    /// a blocked command holds up every command behind it on its connection, so it must not be the shared one.
    /// It reconnects by itself like the shared one, whose log already tells of an outage. Commands may take
    /// <paramref name="longestBlock"/> longer than the configured timeout.
    /// </summary>
    public async Task<ConnectionMultiplexer> ConnectDedicatedAsync(string purpose, TimeSpan longestBlock)
    {
        var configuration = Configure();
        configuration.ClientName = $"{configuration.ClientName}:{purpose}";
        configuration.AsyncTimeout += (int)longestBlock.TotalMilliseconds;
        return await ConnectionMultiplexer.ConnectAsync(configuration);
    }

    private ConfigurationOptions Configure()
    {
        var configuration = ConfigurationOptions.Parse(options.Value.ConnectionString);
        configuration.AbortOnConnectFail = false;
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.ReconnectRetryPolicy = new ExponentialRetry(250, 10_000);
        configuration.ConnectTimeout = Math.Min(configuration.ConnectTimeout, 3_000);
        configuration.ClientName ??= "allocation";
        return configuration;
    }

    private async Task<ConnectionMultiplexer> CreateAsync()
    {
        var configuration = Configure();
        if (options.Value.Embedded)
        {
            await StartEmbeddedBrokerIfAbsentAsync(configuration);
        }

        var multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration);
        multiplexer.ConnectionFailed += (_, _) => Report(multiplexer);
        multiplexer.ConnectionRestored += (_, _) => Report(multiplexer);
        Report(multiplexer);
        return multiplexer;
    }

    private async Task StartEmbeddedBrokerIfAbsentAsync(ConfigurationOptions configuration)
    {
        var endpoint = configuration.EndPoints.FirstOrDefault();
        if (endpoint is null || !EmbeddedBroker.IsLoopback(endpoint) || await EmbeddedBroker.AnswersAsync(endpoint, TimeSpan.FromMilliseconds(300)))
        {
            return;
        }

        var port = endpoint switch
        {
            System.Net.IPEndPoint ip => ip.Port,
            System.Net.DnsEndPoint dns => dns.Port,
            _ => 6379,
        };
        _broker = EmbeddedBroker.Start(port == 0 ? 6379 : port);
        LogEmbeddedStarted(_broker.Port, _broker.Port);
    }

    private void Report(ConnectionMultiplexer multiplexer)
    {
        var connected = multiplexer.IsConnected ? 1 : 0;
        if (Interlocked.Exchange(ref _state, connected) == connected)
        {
            return;
        }

        var endpoints = string.Join(",", multiplexer.GetEndPoints().Select(endpoint => endpoint.ToString()));
        if (connected == 1)
        {
            LogConnected(endpoints);
            signal.DestinationRecovered();
        }
        else
        {
            LogDisconnected(endpoints);
        }
    }

    [LoggerMessage(LogLevel.Information, "Redis connected at {Endpoints}")]
    private partial void LogConnected(string endpoints);

    [LoggerMessage(LogLevel.Warning, "Redis unreachable at {Endpoints}; HTTP goes on, outbound events wait in the outbox, reconnecting with backoff")]
    private partial void LogDisconnected(string endpoints);

    [LoggerMessage(LogLevel.Information, "No Redis answered, so the embedded broker listens on 127.0.0.1:{Port}; try: redis-cli -p {CliPort} SUBSCRIBE line_allocated")]
    private partial void LogEmbeddedStarted(int port, int cliPort);
}
