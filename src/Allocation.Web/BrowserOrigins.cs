using Microsoft.Extensions.Options;

namespace Allocation.Web;

/// <summary>Configuration section <c>Cors</c>: the browser origins (the warehouse UI) that may call the API.</summary>
public sealed class BrowserOriginsOptions
{
    public const string Section = "Cors";

    /// <summary>Origins such as <c>https://warehouse.example.com</c>. None: no CORS at all, so browsers call only from the service's own origin.</summary>
    public string[] AllowedOrigins { get; set; } = [];
}

/// <summary>
/// CORS for the origins in <c>Cors:AllowedOrigins</c>: a preflight from one of them is allowed the API's
/// methods (GET, POST) and the headers its calls need (<c>Content-Type</c>, <c>X-Api-Key</c>), and its
/// script may read <c>Location</c>, <c>Retry-After</c> and <c>WWW-Authenticate</c>. Any other origin gets
/// no CORS headers, so its browser keeps the answer from it. No cookies are involved, so credentials are
/// not allowed. Each origin is checked at start-up.
/// </summary>
internal static class BrowserOrigins
{
    public static IServiceCollection AddBrowserOrigins(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<BrowserOriginsOptions>().Bind(configuration.GetSection(BrowserOriginsOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<BrowserOriginsOptions>, OriginsValidation>();
        services.AddCors();
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>().Configure<IOptions<BrowserOriginsOptions>>((cors, origins) =>
            cors.AddDefaultPolicy(policy => policy
                .WithOrigins(origins.Value.AllowedOrigins)
                .WithMethods(HttpMethods.Get, HttpMethods.Post)
                .WithHeaders("Content-Type", ApiKeys.Header)
                .WithExposedHeaders("Location", "Retry-After", "WWW-Authenticate")
                .SetPreflightMaxAge(TimeSpan.FromMinutes(10))));
        return services;
    }

    /// <summary>Runs after routing and before the API key check: a preflight carries no key.</summary>
    public static WebApplication UseBrowserOrigins(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<BrowserOriginsOptions>>().Value.AllowedOrigins.Length > 0)
        {
            app.UseCors();
        }

        return app;
    }

    private sealed class OriginsValidation : IValidateOptions<BrowserOriginsOptions>
    {
        public ValidateOptionsResult Validate(string? name, BrowserOriginsOptions options)
        {
            var failures = options.AllowedOrigins
                .Select((origin, index) => IsOrigin(origin) ? null
                    : $"{BrowserOriginsOptions.Section}:{nameof(options.AllowedOrigins)}:{index} is \"{origin}\", which is not an origin: http or https, a host, an optional port, and no path (not even \"/\").")
                .OfType<string>()
                .ToList();
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }

        private static bool IsOrigin(string origin) =>
            Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            && uri.UserInfo.Length == 0 && uri.AbsolutePath == "/" && uri.Query.Length == 0 && uri.Fragment.Length == 0
            && !origin.EndsWith('/');
    }
}
