using Allocation.Application.Ports;
using Allocation.Infrastructure.Email;
using Allocation.Infrastructure.Health;
using Allocation.Infrastructure.Outbox;
using Allocation.Infrastructure.Persistence;
using Allocation.Infrastructure.Persistence.Postgres;
using Allocation.Infrastructure.Persistence.Sqlite;
using Allocation.Infrastructure.Redis;
using Allocation.Infrastructure.Telemetry;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Allocation.Infrastructure;

public static class DependencyInjection
{
    /// <summary>Health checks with this tag decide readiness (<c>/health/ready</c>).</summary>
    public const string ReadyTag = "ready";

    /// <summary>
    /// Persistence (SQLite or PostgreSQL, by <c>Database:Provider</c>) with its outbox, Redis in and out,
    /// and e-mail. Every option is validated when the host starts, with a message naming the key.
    /// </summary>
    public static IServiceCollection AddInfrastructure(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DatabaseOptions>()
            .Bind(configuration.GetSection(DatabaseOptions.Section))
            .Configure(options => options.ConnectionString = configuration.GetConnectionString("Allocation") ?? "")
            .ValidateDataAnnotations()
            .Validate(
                options => options.Provider != DatabaseProvider.Sqlite || IsValid(() => new SqliteConnectionStringBuilder(options.ConnectionString)),
                "ConnectionStrings:Allocation is not a valid SQLite connection string.")
            .Validate(
                options => options.Provider != DatabaseProvider.Postgres || IsValid(() => new Npgsql.NpgsqlConnectionStringBuilder(options.ConnectionString) { }.Host ?? throw new FormatException()),
                "ConnectionStrings:Allocation is not a valid PostgreSQL connection string (Npgsql's format, e.g. \"Host=db;Database=allocation;Username=allocation;Password=...\").")
            .ValidateOnStart();
        services.AddOptions<SqliteOptions>().Bind(configuration.GetSection(SqliteOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<DeadLetterOptions>().Bind(configuration.GetSection(DeadLetterOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<OutboxOptions>().Bind(configuration.GetSection(OutboxOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RedisOptions>()
            .Bind(configuration.GetSection(RedisOptions.Section))
            .Configure(options => options.ConnectionString = configuration.GetConnectionString("Redis") ?? options.ConnectionString)
            .ValidateDataAnnotations()
            .Validate(options => IsValid(() => ConfigurationOptions.Parse(options.ConnectionString)), "ConnectionStrings:Redis is not a valid StackExchange.Redis configuration string.")
            .ValidateOnStart();
        services.AddOptions<MessagingOptions>().Bind(configuration.GetSection(MessagingOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<SmtpOptions>().Bind(configuration.GetSection(SmtpOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<NotificationOptions>().Bind(configuration.GetSection(NotificationOptions.Section)).ValidateDataAnnotations().ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton<ServiceMetrics>();
        services.AddSingleton<ISqlDatabase>(provider =>
            provider.GetRequiredService<IOptions<DatabaseOptions>>().Value.Provider == DatabaseProvider.Postgres
                ? ActivatorUtilities.CreateInstance<PostgresDatabase>(provider)
                : ActivatorUtilities.CreateInstance<SqliteDatabase>(provider));
        services.AddSingleton<Writer>();
        services.AddSingleton<OutboxSignal>();
        services.AddSingleton<OutboxStore>();
        services.AddSingleton<DeadLetterStore>();
        services.AddSingleton<IDeadLetters>(provider => provider.GetRequiredService<DeadLetterStore>());
        services.AddScoped<UnitOfWork>();
        services.AddScoped<IUnitOfWork>(provider => provider.GetRequiredService<UnitOfWork>());
        services.AddSingleton<IReadModel, ReadModel>();

        services.AddSingleton<RedisConnection>();
        services.AddScoped<IEventPublisher, RedisEventPublisher>();
        services.AddSingleton<SmtpNotifier>();
        services.AddSingleton<LoggingNotifier>();
        services.AddSingleton<INotifier>(provider =>
            string.IsNullOrWhiteSpace(provider.GetRequiredService<IOptions<SmtpOptions>>().Value.Host)
                ? provider.GetRequiredService<LoggingNotifier>()
                : provider.GetRequiredService<SmtpNotifier>());

        services.AddHealthChecks()
            .AddCheck<DatabaseWritableCheck>("database", tags: [ReadyTag])
            .AddCheck<RedisConnectedCheck>("redis", tags: [ReadyTag])
            .AddCheck<InboundSubscribedCheck>("inbound", tags: [ReadyTag])
            .AddCheck<InboundStreamsCheck>("inbound_streams", tags: [ReadyTag])
            .AddCheck<OutboxBacklogCheck>("outbox", tags: [ReadyTag]);

        // Hosted services stop in reverse order: the consumers stop taking messages before the
        // dispatcher's final drain, and the lead is given up last.
        services.AddHostedService<Checkpointer>();
        services.AddSingleton<LeaderElection>();
        services.AddHostedService(provider => provider.GetRequiredService<LeaderElection>());
        services.AddSingleton<OutboxDispatcher>();
        services.AddHostedService(provider => provider.GetRequiredService<OutboxDispatcher>());
        services.AddSingleton<IReplayer>(provider => provider.GetRequiredService<OutboxDispatcher>());
        services.AddSingleton<InboundMessages>();
        services.AddSingleton<IReplayer>(provider => provider.GetRequiredService<InboundMessages>());
        services.AddSingleton<RedisCommandSubscriber>();
        services.AddHostedService(provider => provider.GetRequiredService<RedisCommandSubscriber>());
        services.AddSingleton<RedisStreamConsumer>();
        services.AddHostedService(provider => provider.GetRequiredService<RedisStreamConsumer>());
        return services;
    }

    private static bool IsValid(Func<object> parse)
    {
        try
        {
            parse();
            return true;
        }
        catch (Exception exception) when (exception is ArgumentException or FormatException or RedisConnectionException)
        {
            return false;
        }
    }
}
