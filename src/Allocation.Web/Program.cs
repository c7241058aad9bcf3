using System.Text.Json.Serialization;
using Allocation.Application.Commands;
using Allocation.Infrastructure;
using Allocation.Infrastructure.Persistence;
using Allocation.Web;
using Scalar.AspNetCore;
using Serilog;
using Serilog.Formatting.Compact;

Log.Logger = new LoggerConfiguration().WriteTo.Console().CreateLogger();
try
{
    // The application's own folder, not the working directory, so that appsettings.json is found
    // wherever the service is started from.
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
    var maxBodyBytes = builder.Configuration.GetValue("Http:MaxRequestBodyBytes", 64 * 1024);

    builder.Services.AddSerilog(
        (services, logging) =>
        {
            logging.ReadFrom.Configuration(builder.Configuration).ReadFrom.Services(services).Enrich.FromLogContext().Enrich.With<QueryStringRedaction>();
            if (builder.Configuration.GetValue("Logging:Json", !builder.Environment.IsDevelopment()))
            {
                logging.WriteTo.Console(new RenderedCompactJsonFormatter());
            }
            else
            {
                logging.WriteTo.Sink(Serilog.Configuration.LoggerSinkConfiguration.Wrap(
                    console => new TextLogEscaping(console),
                    to => to.Console(outputTemplate: "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {Message:lj} {Properties:j}{NewLine}{Exception}")));
            }
        },
        preserveStaticLogger: true);

    if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
    {
        // The contract's default address, unless --urls or ASPNETCORE_URLS say otherwise.
        builder.WebHost.UseUrls("http://localhost:5005");
    }

    builder.WebHost.ConfigureKestrel(kestrel =>
    {
        kestrel.Limits.MaxRequestBodySize = maxBodyBytes;

        // The banner tells an attacker which server to look up exploits for, and a client nothing.
        kestrel.AddServerHeader = false;
    });
    builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
    builder.Services.ConfigureHttpJsonOptions(options =>
    {
        options.SerializerOptions.TypeInfoResolverChain.Insert(0, WireJsonContext.Default);

        // Answers and the OpenAPI schemas use the wire contracts as JsonBody reads them: the web defaults
        // would take "3" for 3 and "OrderId" for "orderid", and the contract's fields are exact.
        options.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
        options.SerializerOptions.PropertyNameCaseInsensitive = false;
    });
    builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
    {
        // Errors answered by the framework itself (no route, wrong method or media type) come without a detail.
        context.ProblemDetails.Detail ??= Problems.DefaultDetail(context.ProblemDetails.Status, context.HttpContext.Request);
        context.ProblemDetails.Extensions.TryAdd("message", context.ProblemDetails.Detail);
    });
    builder.Services.AddExceptionHandler<ProblemExceptionHandler>();

    builder.Services.AddAllocationBus();
    builder.Services.AddInfrastructure(builder.Configuration);
    builder.Services.AddBrowserOrigins(builder.Configuration);
    builder.Services.AddOpenApi(options => options.AddDocumentTransformer((document, _, _) =>
    {
        // The document is named after the service, not the assembly that hosts it.
        document.Info.Title = "Allocation service";
        document.Info.Description = "Allocates order lines to batches of stock. Errors are application/problem+json with a top-level message.";
        return Task.CompletedTask;
    }));
    builder.Services.AddTelemetry(builder.Configuration);
    var security = builder.Configuration.GetSection(SecurityOptions.Section).Get<SecurityOptions>() ?? new SecurityOptions();

    var app = builder.Build();
    app.Services.GetRequiredService<ISqlDatabase>().Migrate();

    // The DI logger, so that request logs follow the configured levels and format (the static logger is only for start-up failures).
    app.UseSerilogRequestLogging(options => options.Logger = app.Services.GetRequiredService<Serilog.ILogger>());
    app.UseResponseHeaders();
    app.UseExceptionHandler();
    app.UseStatusCodePages();

    // After routing, in this order: CORS answers preflights (which carry no key); a request without a
    // valid key is refused before anything about it is looked at; then route values, body size and query
    // values are checked, each before the endpoint binds them.
    app.UseRouting();
    app.UseBrowserOrigins();
    app.UseApiKeys(security);
    app.UseRawRouteValues();
    app.UseBodyLimit(maxBodyBytes);
    app.UseQueryValueChecks();
    app.MapAllocationEndpoints(security);
    app.MapHealthEndpoints();
    app.MapOpenApi();
    app.MapPrometheusScrapingEndpoint("/metrics");
    if (app.Environment.IsDevelopment())
    {
        app.MapScalarApiReference();
    }

    LogConfigurationFiles(app.Logger, builder.Configuration, app.Environment.ContentRootPath);
    if (security.ApiKeys.Length == 0)
    {
        app.Logger.LogWarning("No API keys configured (Security:ApiKeys): every route, including stock changes and dead-letter replay, is open");
    }
    else
    {
        app.Logger.LogInformation("API keys required for stock changes and dead letters{Reads}", security.ProtectReads ? ", and for reads" : "");
    }

    if (!Rules.ChecksNormalization)
    {
        app.Logger.LogWarning("Unicode normalization is unavailable (globalization-invariant mode, no ICU): identifiers not in normalization form C are accepted");
    }

    app.Run();

    // Non-zero when a service stopped the host because it cannot run (Redis without streams, found after start-up).
    return Environment.ExitCode;
}
catch (Microsoft.Extensions.Options.OptionsValidationException exception)
{
    Log.Fatal("The allocation service did not start: its configuration is invalid. {Failures}", string.Join(" ", exception.Failures));
    return 1;
}
catch (Exception exception) when (exception is not HostAbortedException)
{
    Log.Fatal(exception, "The allocation service failed to start");
    return 1;
}
finally
{
    Log.CloseAndFlush();
}

// Which files configured this run, so that a setting that does not take effect can be traced.
static void LogConfigurationFiles(Microsoft.Extensions.Logging.ILogger logger, IConfigurationBuilder configuration, string contentRoot)
{
    var files = configuration.Sources.OfType<Microsoft.Extensions.Configuration.Json.JsonConfigurationSource>()
        .Select(source => source.FileProvider?.GetFileInfo(source.Path ?? ""))
        .Where(file => file is { Exists: true })
        .Select(file => file!.PhysicalPath ?? file.Name)
        .ToList();
    if (files.Count == 0)
    {
        logger.LogWarning("No configuration file found in {ContentRoot}: defaults, environment variables and arguments only", contentRoot);
    }
    else
    {
        logger.LogInformation("Configuration read from {Files}", string.Join(", ", files));
    }
}

/// <summary>Entry point, visible to the API tests' WebApplicationFactory.</summary>
public partial class Program;
