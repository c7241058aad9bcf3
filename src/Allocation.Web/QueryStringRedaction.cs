using Serilog.Core;
using Serilog.Events;

namespace Allocation.Web;

/// <summary>
/// Keeps secrets sent in a URL out of the logs. ASP.NET Core's request logs carry the query string
/// (<c>Request starting … /dead-letters?api_key=…</c>); the service never takes a key from there, but a
/// client that puts one there has leaked it to whoever reads the logs. Only the values of the query
/// parameters the API itself defines are written; every other value is replaced by <c>***</c>.
/// </summary>
internal sealed class QueryStringRedaction : ILogEventEnricher
{
    private const string Property = "QueryString";

    // The API's own query parameters (paging), whose values say nothing secret and help to read a log.
    private static readonly HashSet<string> Kept = new(StringComparer.OrdinalIgnoreCase) { "after", "limit" };

    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        if (logEvent.Properties.TryGetValue(Property, out var value) && value is ScalarValue { Value: string { Length: > 1 } query })
        {
            logEvent.AddOrUpdateProperty(new LogEventProperty(Property, new ScalarValue(Redact(query))));
        }
    }

    /// <summary><c>?limit=3&amp;api_key=abc</c> becomes <c>?limit=3&amp;api_key=***</c>.</summary>
    private static string Redact(string query)
    {
        var parameters = query.TrimStart('?').Split('&');
        for (var index = 0; index < parameters.Length; index++)
        {
            var equals = parameters[index].IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? parameters[index] : parameters[index][..equals];
            if (!Kept.Contains(Uri.UnescapeDataString(name.Replace('+', ' '))))
            {
                parameters[index] = equals < 0 ? (name.Length == 0 ? "" : "***") : $"{name}=***";
            }
        }

        return (query.StartsWith('?') ? "?" : "") + string.Join('&', parameters);
    }
}
