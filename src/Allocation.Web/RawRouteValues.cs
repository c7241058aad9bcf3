using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Allocation.Web;

/// <summary>
/// Route values decoded from the request target exactly as the client sent it. Kestrel decodes the path
/// before routing except for <c>%2F</c>, so <c>/batches/x%2Fy</c> (batch <c>x/y</c>) and
/// <c>/batches/x%252Fy</c> (batch <c>x%2Fy</c>) would both reach the route as <c>x%2Fy</c>. Each segment
/// that is a whole route parameter is taken from the raw target instead and percent-decoded once, so
/// every identifier reads back as itself.
/// </summary>
internal static class RawRouteValues
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Runs after routing, so the endpoint's pattern says which segments are parameters.</summary>
    public static IApplicationBuilder UseRawRouteValues(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.GetEndpoint() is RouteEndpoint endpoint
            && context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } target
            && RawSegments(target) is { } segments
            && !Restore(context.Request.RouteValues, endpoint.RoutePattern, segments))
        {
            await Problems.Result(
                    StatusCodes.Status400BadRequest,
                    "Invalid path",
                    "The request path is not valid percent-encoded UTF-8.")
                .ExecuteAsync(context);
            return;
        }

        await next(context);
    });

    // The path's segments as sent, or null when the server's own path cannot be lined up with them: a
    // target with dot segments was resolved by the server, so its segments no longer match the route's.
    private static string[]? RawSegments(string target)
    {
        var path = target;
        if (!path.StartsWith('/'))
        {
            // Absolute form (GET http://host/path): the path starts after the authority.
            var authority = path.IndexOf("://", StringComparison.Ordinal);
            var start = authority < 0 ? -1 : path.IndexOf('/', authority + 3);
            if (start < 0)
            {
                return null;
            }

            path = path[start..];
        }

        var query = path.IndexOf('?', StringComparison.Ordinal);
        var segments = (query < 0 ? path : path[..query])[1..].Split('/');
        return segments.Any(segment => Decode(segment) is "." or "..") ? null : segments;
    }

    // False when a parameter's segment does not decode.
    private static bool Restore(RouteValueDictionary values, RoutePattern pattern, string[] segments)
    {
        if (segments.Length < pattern.PathSegments.Count)
        {
            return true;
        }

        for (var index = 0; index < pattern.PathSegments.Count; index++)
        {
            if (pattern.PathSegments[index].Parts is [RoutePatternParameterPart { IsCatchAll: false } parameter])
            {
                if (Decode(segments[index]) is not { } value)
                {
                    return false;
                }

                values[parameter.Name] = value;
            }
        }

        return true;
    }

    // Percent-decoding into UTF-8 bytes, then text; null when the bytes are not UTF-8, since no stored
    // identifier can be named by them.
    private static string? Decode(string segment)
    {
        if (!segment.Contains('%', StringComparison.Ordinal))
        {
            return segment;
        }

        var bytes = new List<byte>(segment.Length);
        for (var index = 0; index < segment.Length; index++)
        {
            if (segment[index] == '%' && index + 2 < segment.Length && char.IsAsciiHexDigit(segment[index + 1]) && char.IsAsciiHexDigit(segment[index + 2]))
            {
                bytes.Add(Convert.ToByte(segment.Substring(index + 1, 2), 16));
                index += 2;
            }
            else
            {
                var end = segment.IndexOf('%', index + 1);
                var text = end < 0 ? segment[index..] : segment[index..end];
                bytes.AddRange(Encoding.UTF8.GetBytes(text));
                index += text.Length - 1;
            }
        }

        try
        {
            return StrictUtf8.GetString(bytes.ToArray());
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
