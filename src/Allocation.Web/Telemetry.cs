using Allocation.Infrastructure.Telemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Allocation.Web;

/// <summary>
/// OpenTelemetry: ASP.NET Core and the service's own meter, scraped in Prometheus format at
/// <c>/metrics</c>, and exported over OTLP (metrics and traces) when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>
/// or <c>OpenTelemetry:OtlpEndpoint</c> is set.
/// </summary>
internal static class Telemetry
{
    public static IServiceCollection AddTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var otlp = configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] ?? configuration["OpenTelemetry:OtlpEndpoint"];
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("allocation"))
            .WithMetrics(metrics =>
            {
                metrics.AddAspNetCoreInstrumentation().AddMeter(ServiceMetrics.MeterName).AddPrometheusExporter();
                if (otlp is not null)
                {
                    metrics.AddOtlpExporter(exporter => exporter.Endpoint = new Uri(otlp));
                }
            });

        // Traces cost on every request, so they are collected only when something receives them.
        if (otlp is not null)
        {
            telemetry.WithTracing(tracing => tracing.AddAspNetCoreInstrumentation().AddOtlpExporter(exporter => exporter.Endpoint = new Uri(otlp)));
        }

        return services;
    }
}
