using System.Security.Cryptography;
using System.Text;

namespace Allocation.Web;

/// <summary>Configuration section <c>Security</c>.</summary>
public sealed class SecurityOptions
{
    public const string Section = "Security";

    /// <summary>Accepted values of the <c>X-Api-Key</c> header. None configured: every route is open.</summary>
    public string[] ApiKeys { get; set; } = [];

    /// <summary>Whether read routes need a key too (mutating and dead-letter routes always do when keys exist).</summary>
    public bool ProtectReads { get; set; }
}

/// <summary>Endpoint metadata: the route needs an API key; a read only when <see cref="SecurityOptions.ProtectReads"/> is set.</summary>
internal sealed record ApiKeyRequired(bool IsRead);

/// <summary>
/// Requires a configured API key in <c>X-Api-Key</c> on the routes marked <see cref="ApiKeyRequired"/>:
/// 401 without one (with <c>WWW-Authenticate</c>), 403 with a wrong one. Checked in middleware right
/// after routing, so a request without a valid key learns nothing about its body, query or size before
/// it is refused. Keys come from the header only: one in the query string would be written to access logs
/// and browser histories. Keys are compared as SHA-256 digests in constant time, so neither their content
/// nor their length leaks through timing.
/// </summary>
internal static class ApiKeys
{
    public const string Header = "X-Api-Key";

    /// <summary>Marks a group of routes; reads are guarded only when <see cref="SecurityOptions.ProtectReads"/> is set.</summary>
    public static RouteGroupBuilder RequireApiKey(this RouteGroupBuilder group, SecurityOptions options, bool isRead)
    {
        group.WithMetadata(new ApiKeyRequired(isRead));
        if (options.ApiKeys.Length > 0 && (!isRead || options.ProtectReads))
        {
            group.ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        }

        return group;
    }

    /// <summary>Runs after routing, so the endpoint's metadata says whether it needs a key.</summary>
    public static IApplicationBuilder UseApiKeys(this IApplicationBuilder app, SecurityOptions options)
    {
        var digests = options.ApiKeys.Select(Digest).ToArray();
        return digests.Length == 0 ? app : app.Use(async (context, next) =>
        {
            if (context.GetEndpoint()?.Metadata.GetMetadata<ApiKeyRequired>() is { } required && (!required.IsRead || options.ProtectReads)
                && Refusal(context.Request.Headers[Header].ToString(), digests) is { } refusal)
            {
                if (refusal.Status == StatusCodes.Status401Unauthorized)
                {
                    context.Response.Headers.WWWAuthenticate = $"ApiKey header=\"{Header}\"";
                }

                await BodyLimit.RefuseAsync(context, refusal.Answer);
                return;
            }

            await next(context);
        });
    }

    private static (int Status, IResult Answer)? Refusal(string presented, byte[][] digests)
    {
        if (presented.Length == 0)
        {
            return (StatusCodes.Status401Unauthorized, Problems.Result(StatusCodes.Status401Unauthorized, "API key required", $"This route needs an API key in the {Header} header."));
        }

        var digest = Digest(presented);
        var accepted = false;
        foreach (var key in digests)
        {
            accepted |= CryptographicOperations.FixedTimeEquals(key, digest);
        }

        return accepted ? null : (StatusCodes.Status403Forbidden, Problems.Result(StatusCodes.Status403Forbidden, "API key refused", "The API key is not accepted."));
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
