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

/// <summary>
/// Requires a configured API key in <c>X-Api-Key</c>: 401 without one, 403 with a wrong one. Keys are
/// compared as SHA-256 digests in constant time, so neither their content nor their length leaks
/// through timing.
/// </summary>
internal sealed class ApiKeyFilter(SecurityOptions options, bool isRead) : IEndpointFilter
{
    public const string Header = "X-Api-Key";

    private readonly byte[][] _digests = options.ApiKeys.Select(Digest).ToArray();

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (_digests.Length == 0 || (isRead && !options.ProtectReads))
        {
            return next(context);
        }

        var presented = context.HttpContext.Request.Headers[Header].ToString();
        if (presented.Length == 0)
        {
            return ValueTask.FromResult<object?>(Problems.Result(StatusCodes.Status401Unauthorized, "API key required", $"This route needs an API key in the {Header} header."));
        }

        var digest = Digest(presented);
        var accepted = false;
        foreach (var key in _digests)
        {
            accepted |= CryptographicOperations.FixedTimeEquals(key, digest);
        }

        return accepted
            ? next(context)
            : ValueTask.FromResult<object?>(Problems.Result(StatusCodes.Status403Forbidden, "API key refused", "The API key is not accepted."));
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}

internal static class ApiKeyEndpoints
{
    /// <summary>Guards a group of routes; reads only when <see cref="SecurityOptions.ProtectReads"/> is set.</summary>
    public static RouteGroupBuilder RequireApiKey(this RouteGroupBuilder group, SecurityOptions options, bool isRead)
    {
        group.AddEndpointFilter(new ApiKeyFilter(options, isRead));
        if (options.ApiKeys.Length > 0 && (!isRead || options.ProtectReads))
        {
            group.ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        }

        return group;
    }
}
