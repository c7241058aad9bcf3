using Microsoft.AspNetCore.Http.Features;

namespace Allocation.Web;

/// <summary>
/// The request body limit, <c>Http:MaxRequestBodyBytes</c>, applied so that every request gets its answer
/// and a connection the service will not keep says so. An oversized body of up to
/// <see cref="DrainCeiling"/> bytes, declared or chunked, is read to its end and dropped before the 413
/// is sent: a server that answers and closes while the client is still sending makes the client's TCP
/// stack discard the answer, and one that answers without reading leaves the rest of the body to be
/// taken for the next request. A larger body, or one whose client waits for <c>100 Continue</c> before
/// sending it, is answered with <c>Connection: close</c>.
/// </summary>
internal static class BodyLimit
{
    /// <summary>The most an oversized body may be for the service to read and drop it rather than close the connection.</summary>
    public const long DrainCeiling = 1024 * 1024;

    public static IApplicationBuilder UseBodyLimit(this IApplicationBuilder app, long maxBodyBytes) => app.Use(async (context, next) =>
    {
        var request = context.Request;
        var limit = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        var drainable = limit is { IsReadOnly: false } && maxBodyBytes < DrainCeiling && !request.Headers.Expect.Any(IsContinue);
        if (request.ContentLength > maxBodyBytes)
        {
            if (drainable && request.ContentLength <= DrainCeiling)
            {
                limit!.MaxRequestBodySize = DrainCeiling;
                await DrainAsync(request.Body, context.RequestAborted);
            }
            else
            {
                context.Response.Headers.Connection = "close";
            }

            await Problems.TooLarge().ExecuteAsync(context);
            return;
        }

        if (drainable && request.ContentLength is null && context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: true })
        {
            // Chunked: the length shows only while reading, so the limit is applied by the stream the endpoint reads.
            limit!.MaxRequestBodySize = DrainCeiling;
            request.Body = new CappedBody(request.Body, maxBodyBytes);
        }
        else if (limit is { IsReadOnly: false })
        {
            // Kestrel enforces its configured limit too; this also covers servers without the feature.
            limit.MaxRequestBodySize = maxBodyBytes;
        }

        await next(context);
    });

    private static async Task DrainAsync(Stream body, CancellationToken cancellationToken)
    {
        try
        {
            await body.CopyToAsync(Stream.Null, cancellationToken);
        }
        catch (Exception exception) when (exception is IOException or BadHttpRequestException or OperationCanceledException)
        {
            // The client went away, sent less than it declared, or more than the ceiling (Kestrel then
            // closes the connection and says so): there is nothing left to keep.
        }
    }

    private static bool IsContinue(string? expectation) => string.Equals(expectation, "100-continue", StringComparison.OrdinalIgnoreCase);

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
