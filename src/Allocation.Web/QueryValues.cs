using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using Allocation.Application.Bus;

namespace Allocation.Web;

/// <summary>
/// Checks integer query values (<c>?limit=</c>, and <c>?after=</c> on the id-paged lists) against the route
/// handler's parameter types before the framework binds them, so <c>?limit=abc</c> is answered
/// "'limit' must be an integer" under the parameter's name, as invalid body fields are, instead of with
/// the binder's message about .NET types.
/// </summary>
internal static class QueryValues
{
    private static readonly ConcurrentDictionary<RouteEndpoint, (string Name, bool IsLong)[]> Integers = new();

    /// <summary>Runs after routing, so the endpoint and its handler are known.</summary>
    public static IApplicationBuilder UseQueryValueChecks(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (context.Request.QueryString.HasValue && context.GetEndpoint() is RouteEndpoint endpoint)
        {
            var errors = Integers.GetOrAdd(endpoint, IntegersOf)
                .Where(parameter => context.Request.Query.TryGetValue(parameter.Name, out var value) && !Parses(value.ToString(), parameter.IsLong))
                .ToDictionary(parameter => parameter.Name, parameter => new[] { $"'{parameter.Name}' must be an integer." }, StringComparer.Ordinal);
            if (errors.Count > 0)
            {
                throw new InvalidInputException(string.Join(" ", errors.Values.SelectMany(messages => messages)), errors);
            }
        }

        return next(context);
    });

    // An empty value binds as "not given", as the framework binds it.
    private static bool Parses(string text, bool isLong) =>
        text.Length == 0 || (isLong
            ? long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)
            : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out _));

    // The handler's integer parameters that are not route values, so come from the query string.
    private static (string Name, bool IsLong)[] IntegersOf(RouteEndpoint endpoint) =>
    [
        .. (endpoint.Metadata.GetMetadata<MethodInfo>()?.GetParameters() ?? [])
            .Where(parameter => parameter.Name is not null && endpoint.RoutePattern.GetParameter(parameter.Name) is null)
            .Select(parameter => (parameter.Name!, Type: Nullable.GetUnderlyingType(parameter.ParameterType) ?? parameter.ParameterType))
            .Where(parameter => parameter.Type == typeof(int) || parameter.Type == typeof(long))
            .Select(parameter => (parameter.Item1, parameter.Type == typeof(long))),
    ];
}
