using Microsoft.Net.Http.Headers;

namespace Allocation.Web;

/// <summary>
/// Headers every answer carries: <c>X-Content-Type-Options: nosniff</c>, so a browser never runs a JSON
/// answer as something else, and <c>Cache-Control: no-store</c>, since stock changes from one request to
/// the next and no cache in between should keep a copy. Set as the headers are sent, so that answers
/// written by the exception handler, which clears headers, carry them too. (Kestrel's <c>Server</c>
/// header is switched off where Kestrel is configured.)
/// </summary>
internal static class ResponseHeaders
{
    public static IApplicationBuilder UseResponseHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers[HeaderNames.XContentTypeOptions] = "nosniff";
            if (!headers.ContainsKey(HeaderNames.CacheControl))
            {
                headers.CacheControl = "no-store";
            }

            return Task.CompletedTask;
        });
        return next(context);
    });
}
