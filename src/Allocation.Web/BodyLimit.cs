using Microsoft.AspNetCore.Http.Features;

namespace Allocation.Web;

/// <summary>
/// The request body limit, <c>Http:MaxRequestBodyBytes</c>, and what happens to a body the service will
/// not read, applied so that every request gets its answer and a connection the service will not keep
/// says so. See <see cref="RefuseAsync"/>.
/// </summary>
internal static class BodyLimit
{
    /// <summary>The most an unread body may be for the service to read and drop it rather than close the connection.</summary>
    public const long DrainCeiling = 1024 * 1024;

    public static IApplicationBuilder UseBodyLimit(this IApplicationBuilder app, long maxBodyBytes) => app.Use(async (context, next) =>
    {
        var request = context.Request;
        if (request.ContentLength > maxBodyBytes)
        {
            await RefuseAsync(context, Problems.TooLarge());
            return;
        }

        var limit = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (request.ContentLength is null && HasBody(context) && maxBodyBytes < DrainCeiling && limit is { IsReadOnly: false } && !ExpectsContinue(request))
        {
            // Chunked: the length shows only while reading, so the stream the endpoint reads applies the
            // limit, and drains the rest before refusing, as RefuseAsync does.
            limit.MaxRequestBodySize = DrainCeiling;
            request.Body = new CappedBody(request.Body, maxBodyBytes);
        }
        else if (limit is { IsReadOnly: false })
        {
            // Kestrel enforces its configured limit too; this also covers servers without the feature.
            limit.MaxRequestBodySize = maxBodyBytes;
        }

        await next(context);
    });

    /// <summary>
    /// Answers a request without reading its body (too large, or no valid API key), keeping the connection
    /// usable when that is cheap. A body of up to <see cref="DrainCeiling"/> bytes is read to its end and
    /// dropped before the answer: a server that answers and closes while the client is still sending makes
    /// the client's TCP stack discard the answer, and one that answers and keeps the connection without
    /// reading leaves the rest of the body to be taken for the next request. A larger body, or one whose
    /// client waits for <c>100 Continue</c> before sending it, is answered with <c>Connection: close</c>.
    /// </summary>
    public static async Task RefuseAsync(HttpContext context, IResult answer)
    {
        var request = context.Request;
        if (HasBody(context))
        {
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit
                && !(request.ContentLength > DrainCeiling) && !ExpectsContinue(request))
            {
                limit.MaxRequestBodySize = Math.Max(limit.MaxRequestBodySize ?? 0, DrainCeiling);
                await DrainAsync(request.Body, context.RequestAborted);
            }
            else
            {
                context.Response.Headers.Connection = "close";
            }
        }

        await answer.ExecuteAsync(context);
    }

    private static bool HasBody(HttpContext context) =>
        context.Request.ContentLength > 0
        || (context.Request.ContentLength is null && context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: true });

    private static bool ExpectsContinue(HttpRequest request) =>
        request.Headers.Expect.Any(expectation => string.Equals(expectation, "100-continue", StringComparison.OrdinalIgnoreCase));

    private static async Task DrainAsync(Stream body, CancellationToken cancellationToken)
    {
        try
        {
            await body.CopyToAsync(Stream.Null, cancellationToken);
        }
        catch (Exception exception) when (exception is IOException or BadHttpRequestException or OperationCanceledException)
        {
            // The client went away, sent less than it declared, or more than the ceiling (Kestrel then
            // closes the connection and says so on the answer): there is nothing left to keep.
        }
    }

    /// <summary>A chunked body that throws 413 once past the limit, having first read and dropped the rest.</summary>
    private sealed class CappedBody(Stream inner, long maxBytes) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _read;
            set => throw new NotSupportedException();
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var count = await inner.ReadAsync(buffer, cancellationToken);
            _read += count;
            if (_read > maxBytes)
            {
                await DrainAsync(inner, cancellationToken);
                throw new BadHttpRequestException("Request body too large.", StatusCodes.Status413PayloadTooLarge);
            }

            return count;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        // Kestrel allows no synchronous reads; neither does this.
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
