using System.Text.Json;
using Lasthope.Core.Storage;
using Lasthope.Server.Telemetry;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;

namespace Lasthope.Server.Api;

/// <summary>
/// Turns request-reading failures into RFC 7807 problem details that name the field: malformed JSON, a wrong type
/// (with the JSON path of the offending value), an oversized body. Anything else unexpected is a 500 problem, logged.
/// </summary>
public sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        ArgumentNullException.ThrowIfNull(exception);
        ProblemDetails problem;
        if (exception is StoreUnavailableException store)
        {
            // The same answer on every endpoint: nothing was done that needs undoing; retry.
            httpContext.Response.Headers.RetryAfter = "1";
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Store unavailable",
                Detail = $"The store is unavailable; nothing was changed. Retry later. ({store.Message})",
            };
        }
        else if (exception is BadHttpRequestException bad)
        {
            var (field, message) = Describe(bad);
            problem = new ProblemDetails
            {
                Status = bad.StatusCode,
                Title = bad.StatusCode switch
                {
                    StatusCodes.Status413PayloadTooLarge => "Request body too large",
                    StatusCodes.Status408RequestTimeout => "Request body timeout",
                    _ => "Invalid request body",
                },
                Detail = message,
                Type = bad.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? "https://tools.ietf.org/html/rfc9110#section-15.5.14"
                    : "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            };
            problem.Extensions["errors"] = new Dictionary<string, string[]> { [field] = [message] };
        }
        else if (exception is IOException io && !httpContext.Response.HasStarted)
        {
            // The body broke off or was malformed below JSON (a chunk size past any limit, a connection reset).
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "Invalid request body",
                Detail = $"The request body could not be read: {io.Message}",
                Extensions = { ["errors"] = new Dictionary<string, string[]> { ["body"] = [$"The request body could not be read: {io.Message}"] } },
            };
        }
        else
        {
            LogUnhandled(logger, exception, httpContext.Request.Path);
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status500InternalServerError,
                Title = "Internal error",
                Detail = "The server failed unexpectedly; the error is logged.",
            };
        }

        httpContext.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    /// <summary>The field (a JSON path without "$.") and a message for a bad request.</summary>
    public static (string Field, string Message) Describe(BadHttpRequestException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return ("body", "The request body is larger than the configured limit (Lasthope:Ranking:MaxBodyBytes).");
        }

        if (exception.InnerException is JsonException json)
        {
            var field = FieldOf(json.Path);
            return json switch
            {
                // The reader's own exception inside (a JsonException too): the text is not JSON where it broke.
                { InnerException: JsonException } => (field, $"Malformed JSON {Where(field, json)}."),

                // Our converters say what a field must be.
                JsonFieldException => (field, field == "body" ? json.Message : $"'{field}': {json.Message}"),

                // The serializer could not convert a value to its field's type.
                _ => (field, field == "body" ? $"Invalid JSON {Where(field, json)}." : $"'{field}': the value has the wrong type for this field (see /openapi/v1.json)."),
            };
        }

        return ("body", exception.Message);
    }

    private static string Where(string field, JsonException json)
        => $"{(field == "body" ? "" : $"at '{field}' ")}(line {(json.LineNumber ?? 0) + 1}, byte {(json.BytePositionInLine ?? 0) + 1})";

    private static string FieldOf(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$")
        {
            return "body";
        }

        return path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
    }

    /// <summary>
    /// Problem details the framework writes itself (a 413 decided from Content-Length before any body is read, a 404,
    /// a 415) get the same "errors" shape, naming the body where that is the culprit.
    /// </summary>
    public static void Customize(ProblemDetailsContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var problem = context.ProblemDetails;
        if (!problem.Extensions.ContainsKey("errors") && problem.Status is StatusCodes.Status413PayloadTooLarge or StatusCodes.Status415UnsupportedMediaType)
        {
            var message = problem.Status == StatusCodes.Status413PayloadTooLarge
                ? "The request body is larger than the configured limit (Lasthope:Ranking:MaxBodyBytes)."
                : "The request body must be JSON (Content-Type: application/json).";
            problem.Detail ??= message;
            problem.Extensions["errors"] = new Dictionary<string, string[]> { ["body"] = [message] };
        }
    }

    [LoggerMessage(EventId = LogEvents.Unhandled, Level = LogLevel.Error, Message = "Unhandled error on {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string path);
}
