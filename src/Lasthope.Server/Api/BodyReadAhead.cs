using System.Buffers;
using System.Diagnostics;
using Lasthope.Core.Identifiers;
using Lasthope.Server.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;

namespace Lasthope.Server.Api;

/// <summary>Marks an endpoint whose JSON body is read whole, under a deadline, before it runs.</summary>
public sealed class ReadBodyFirstMetadata
{
    public static ReadBodyFirstMetadata Instance { get; } = new();
}

/// <summary>
/// Reads the JSON body of a marked endpoint (rank, recommend, events) whole before the request goes on to the
/// serving door: a request holds a serving slot only while it is served, never while its client trickles the body.
/// The read has a deadline of its own (<see cref="LimitsOptions.BodyReadTimeoutMs"/>: 408 and the connection closed
/// past it), Kestrel's minimum data rate still applies, and at most <see cref="LimitsOptions.MaxConcurrentBodyReads"/>
/// bodies are received at once (503 with Retry-After beyond), which bounds the memory they hold. The budget of a
/// rank request counts from the moment its body is complete.
/// </summary>
public sealed class BodyReadAhead(RequestDelegate next, LimitsOptions limits, IProblemDetailsService problems)
{
    private const int InitialBuffer = 64 * 1024;
    private int _reading;
    private readonly TimeSpan _timeout = TimeSpan.FromMilliseconds(limits.BodyReadTimeoutMs);

    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.GetEndpoint()?.Metadata.GetMetadata<ReadBodyFirstMetadata>() is null)
        {
            await next(context);
            return;
        }

        // JSON is UTF-8 (RFC 8259 section 8.1): another charset, or one that names no encoding, is refused here, not
        // half-decoded later.
        if (MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var mediaType) && mediaType.Charset.HasValue
            && mediaType.Charset.Value.Trim('"') is var charset && !charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) && !charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
        {
            await WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", $"The body must be JSON in UTF-8; the request says charset={Ids.Printable(charset)}.");
            return;
        }

        if (Interlocked.Increment(ref _reading) > limits.MaxConcurrentBodyReads)
        {
            Interlocked.Decrement(ref _reading);
            context.Response.Headers.RetryAfter = "1";
            await WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Too many bodies in transit", $"More than Limits:MaxConcurrentBodyReads ({limits.MaxConcurrentBodyReads}) request bodies are being received; retry after a second.");
            return;
        }

        byte[] buffer;
        int length;
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted))
        {
            deadline.CancelAfter(_timeout);
            try
            {
                (buffer, length) = await ReadAllAsync(context.Request, deadline.Token);
            }
            catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
            {
                context.Response.Headers.Connection = "close";
                await WriteAsync(context, StatusCodes.Status408RequestTimeout, "Request body timeout", $"The request body did not arrive within Limits:BodyReadTimeoutMs ({limits.BodyReadTimeoutMs} ms).");                return;
            }
            finally
            {
                Interlocked.Decrement(ref _reading);
            }
        }

        try
        {
            context.Request.Body = new MemoryStream(buffer, 0, length, writable: false);
            context.Items[RankApi.ArrivalKey] = Stopwatch.GetTimestamp();
            await next(context);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The whole body in a pooled buffer. Kestrel enforces the size limit (413) while it is read. The deadline cancels
    /// the pending read through the pipe (<see cref="System.IO.Pipelines.PipeReader.CancelPendingRead"/>), which leaves
    /// Kestrel's reader in a state it can close cleanly, rather than through a token.
    /// </summary>
    private static async Task<(byte[] Buffer, int Length)> ReadAllAsync(HttpRequest request, CancellationToken deadline)
    {
        // Start from the declared length only up to a small size: memory grows with the bytes that actually arrive,
        // never with what a client claims it will send.
        var declared = request.ContentLength;
        var buffer = ArrayPool<byte>.Shared.Rent(declared is > 0 and < InitialBuffer ? (int)declared.Value : InitialBuffer);
        var length = 0;
        var reader = request.BodyReader;
        using var cancel = deadline.Register(static r => ((System.IO.Pipelines.PipeReader)r!).CancelPendingRead(), reader);
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(CancellationToken.None);
                if (result.IsCanceled)
                {
                    reader.AdvanceTo(result.Buffer.Start);
                    throw new OperationCanceledException(deadline);
                }

                foreach (var segment in result.Buffer)
                {
                    if (length + segment.Length > buffer.Length)
                    {
                        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(checked(buffer.Length * 2), length + segment.Length));
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }

                    segment.Span.CopyTo(buffer.AsSpan(length));
                    length += segment.Length;
                }

                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    return (buffer, length);
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private Task<bool> WriteAsync(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        return problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails
            {
                Status = status,
                Title = title,
                Detail = detail,
                Extensions = { ["errors"] = new Dictionary<string, string[]> { ["body"] = [detail] } },
            },
        }).AsTask();
    }
}

/// <summary>Endpoint conventions of <see cref="BodyReadAhead"/>.</summary>
public static class BodyReadAheadExtensions
{
    public static TBuilder ReadsBodyFirst<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
        => builder.WithMetadata(ReadBodyFirstMetadata.Instance);
}
