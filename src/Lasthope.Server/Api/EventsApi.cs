using Lasthope.Core.Storage;
using Lasthope.Server.Configuration;
using Lasthope.Server.Ingestion;
using Lasthope.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Lasthope.Server.Api;

/// <summary>POST /v1/events.</summary>
public static class EventsApi
{
    public static IEndpointRouteBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/events", IngestAsync)
            .WithName("Events")
            .WithSummary("Post interaction events (clicks, conversions)")
            .WithDescription("Each event is validated and attributed to the ranking its requestId names (its position and segment); accepted events are durable when the response says so and count once by eventId. 200 when at least one event was acknowledged, with the rejected ones listed by index; 400 when none was.")
            .Produces<EventBatchResponse>()
            .WithBodyProblems()
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .RequireScope(Scopes.Events)
            .ReadsBodyFirst()
            .RequireRateLimiting(ClientRateLimits.EventsPolicy);
        return app;
    }

    /// <summary>
    /// 200 with the counts when at least one event was acknowledged (accepted or duplicate), the rejected ones listed by
    /// index; 400 problem details (errors keyed by field, e.g. "events[0].type") when none was; 503 when the store
    /// could not take the batch, in which case nothing was acknowledged.
    /// </summary>
    public static async Task<Results<Ok<EventBatchResponse>, ValidationProblem, ProblemHttpResult>> IngestAsync(
        EventBatchRequest request, EventIngestor ingestor, IOptions<LasthopeOptions> options, HttpContext http, CancellationToken cancellationToken)
    {
        if (request.Events is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["events"] = ["events is required: an array of events."] }, title: "Invalid event batch");
        }

        var limit = options.Value.Ranking.MaxEventsPerBatch;
        if (request.Events.Count > limit)
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["events"] = [$"the batch has {request.Events.Count} events; the limit is {limit} (Ranking:MaxEventsPerBatch)."] },
                title: "Invalid event batch");
        }

        IngestResult ingested;
        try
        {
            ingested = await ingestor.IngestAsync([.. request.Events.Select(e => e is null ? null : new EventInput(e.EventId, e.ItemId, e.Type, e.UserId, e.RequestId, e.Timestamp))], cancellationToken);
        }
        catch (StoreUnavailableException e)
        {
            http.Response.Headers.RetryAfter = "1";
            return TypedResults.Problem(
                detail: $"The event store is unavailable; nothing in this batch was acknowledged. Retry later. ({e.Message})",
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Store unavailable");
        }

        var result = new EventBatchResponse(
            ingested.Accepted,
            ingested.Duplicates,
            [.. ingested.Rejected.Select(r => new RejectedEvent(r.Index, r.Field.Length == 0 ? $"events[{r.Index}]" : $"events[{r.Index}].{r.Field}", r.Reason))]);
        if (result.Accepted + result.Duplicates == 0 && result.Rejected.Count > 0)
        {
            var errors = result.Rejected
                .GroupBy(r => r.Field, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Select(r => r.Reason).ToArray(), StringComparer.Ordinal);
            return TypedResults.ValidationProblem(errors, title: "No event in the batch was valid");
        }

        return TypedResults.Ok(result);
    }
}
