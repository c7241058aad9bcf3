using Allocation.Infrastructure;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Allocation.Web;

/// <summary>
/// <c>/health/live</c>: the process answers. <c>/health/ready</c>: SQLite takes writes, Redis (or the
/// embedded broker) is connected, the inbound channels are subscribed and the outbox is not backing up.
/// Both answer JSON with each check.
/// </summary>
internal static class Health
{
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(DependencyInjection.ReadyTag),
            ResponseWriter = WriteAsync,
        });
        return app;
    }

    private static Task WriteAsync(HttpContext context, HealthReport report) =>
        context.Response.WriteAsJsonAsync(
            new
            {
                status = report.Status.ToString(),
                duration_ms = Math.Round(report.TotalDuration.TotalMilliseconds, 2),
                checks = report.Entries.ToDictionary(
                    entry => entry.Key,
                    entry => new { status = entry.Value.Status.ToString(), description = entry.Value.Description, data = entry.Value.Data }),
            },
            context.RequestAborted);
}
