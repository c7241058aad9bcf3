using Allocation.Application.Ports;
using Allocation.Domain;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;

namespace Allocation.Web;

/// <summary>
/// Every error as RFC 9457 problem details, with the top-level <c>message</c> older clients read and,
/// for invalid input, <c>errors</c> keyed by the contract's field names.
/// </summary>
internal static class Problems
{
    public static IResult NotFound(string detail) => Result(StatusCodes.Status404NotFound, "Not found", detail);

    public static IResult Result(int status, string title, string detail, IReadOnlyDictionary<string, string[]>? errors = null)
    {
        var problem = errors is null
            ? new ProblemDetails()
            : new HttpValidationProblemDetails(errors.ToDictionary());
        problem.Status = status;
        problem.Title = title;
        problem.Detail = detail;
        problem.Extensions["message"] = detail;
        return TypedResults.Problem(problem);
    }

    public static IResult TooLarge() =>
        Result(StatusCodes.Status413PayloadTooLarge, "Request body too large", "The request body is larger than the service accepts.");

    /// <summary>The detail of a problem the framework answers on its own, which has only a status and title.</summary>
    public static string DefaultDetail(int? status, HttpRequest request) => status switch
    {
        StatusCodes.Status404NotFound => $"Nothing is at {request.Method} {request.Path}.",
        StatusCodes.Status405MethodNotAllowed => $"{request.Path} does not accept {request.Method}.",
        StatusCodes.Status415UnsupportedMediaType => "The request body must be JSON, sent as Content-Type: application/json.",
        _ => ReasonPhrases.GetReasonPhrase(status ?? StatusCodes.Status500InternalServerError),
    };

    /// <summary>What the client is told for an exception; null for the unexpected, which is a bare 500.</summary>
    public static IResult? For(Exception exception) => exception switch
    {
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => TooLarge(),
        BadHttpRequestException bad =>
            Result(bad.StatusCode, ReasonPhrases.GetReasonPhrase(bad.StatusCode), bad.Message),
        RejectedException rejected => Result(rejected.Status, rejected.Title, rejected.Message, rejected.Errors),
        ConcurrencyException => RetryAfter(1, Result(StatusCodes.Status503ServiceUnavailable, "Busy", "The product kept changing under this request; try again.")),
        UnavailableException => RetryAfter(5, Result(StatusCodes.Status503ServiceUnavailable, "Unavailable", $"{exception.Message} Nothing was changed; try again later.")),
        _ => null,
    };

    private static IResult RetryAfter(int seconds, IResult problem) => new RetryAfterResult(seconds, problem);
}

/// <summary>A problem answered with <c>Retry-After</c>: the same request may succeed once the condition passes.</summary>
internal sealed class RetryAfterResult(int seconds, IResult problem) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return problem.ExecuteAsync(httpContext);
    }
}

/// <summary>Turns exceptions escaping an endpoint into the contract's problem responses.</summary>
internal sealed partial class ProblemExceptionHandler(ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var result = Problems.For(exception);
        if (result is null)
        {
            LogUnhandled(exception, httpContext.Request.Method, httpContext.Request.Path);
            result = Problems.Result(StatusCodes.Status500InternalServerError, "Internal error", "The service failed to handle the request; it has been logged.");
        }

        await result.ExecuteAsync(httpContext);
        return true;
    }

    [LoggerMessage(LogLevel.Error, "Unhandled error on {Method} {Path}")]
    private partial void LogUnhandled(Exception exception, string method, string path);
}
