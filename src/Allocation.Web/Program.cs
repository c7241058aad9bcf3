using Allocation.Infrastructure;
using Allocation.Infrastructure.Persistence;
using Allocation.Web;
using FluentValidation;
using Microsoft.AspNetCore.Http.Features;
using Serilog;
using Serilog.Formatting.Compact;

Log.Logger = new LoggerConfiguration().WriteTo.Console().CreateLogger();
try
{
    var builder = WebApplication.CreateBuilder(args);
    var maxBodyBytes = builder.Configuration.GetValue("Http:MaxRequestBodyBytes", 64 * 1024);

    // The contract's default address, set here rather than as "Urls" in appsettings.json, which would
    // take precedence over ASPNETCORE_URLS.
    if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
    {
        builder.WebHost.UseUrls("http://localhost:5005");
    }

    builder.Services.AddSerilog(
        (services, logging) =>
        {
            logging.ReadFrom.Configuration(builder.Configuration).ReadFrom.Services(services).Enrich.FromLogContext();
            if (builder.Configuration.GetValue("Logging:Json", !builder.Environment.IsDevelopment()))
            {
                logging.WriteTo.Console(new RenderedCompactJsonFormatter());
            }
            else
            {
                logging.WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {Message:lj} {Properties:j}{NewLine}{Exception}");
            }
        },
        preserveStaticLogger: true);

    builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = maxBodyBytes);
    builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
    builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.TypeInfoResolverChain.Insert(0, WireJsonContext.Default));
    builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        context.ProblemDetails.Extensions.TryAdd("message", context.ProblemDetails.Detail ?? context.ProblemDetails.Title));
    ValidatorOptions.Global.DisplayNameResolver = (_, member, _) => member is null ? null : Problems.WireName(member.Name);
    builder.Services.AddExceptionHandler<ProblemExceptionHandler>();

    builder.Services.AddAllocationBus();
    builder.Services.AddInfrastructure(builder.Configuration);

    var app = builder.Build();
    app.Services.GetRequiredService<SqliteDatabase>().Migrate();

    app.UseSerilogRequestLogging();
    app.UseExceptionHandler();
    app.UseStatusCodePages();
    app.Use((context, next) =>
    {
        // Kestrel enforces the limit while reading; this answers early when the length is declared,
        // and applies the same limit on servers without Kestrel's feature.
        if (context.Request.ContentLength > maxBodyBytes)
        {
            throw new BadHttpRequestException("Request body too large.", StatusCodes.Status413PayloadTooLarge);
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBodyBytes;
        }

        return next(context);
    });
    app.MapAllocationEndpoints();

    app.Run();
    return 0;
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

/// <summary>Entry point, visible to the API tests' WebApplicationFactory.</summary>
public partial class Program;
