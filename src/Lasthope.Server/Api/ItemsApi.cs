using Lasthope.Server.Configuration;
using Lasthope.Server.Ingestion;
using Lasthope.Server.Security;
using Lasthope.Server.State;
using Lasthope.Server.Stats;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Lasthope.Server.Api;

/// <summary>POST /v1/items: the item catalog's attributes. GET /v1/items/{id}/stats: what a user checks when a ranking looks wrong.</summary>
public static class ItemsApi
{
    public static IEndpointRouteBuilder MapItemsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/items/{id}/stats", GetStats)
            .WithName("ItemStats")
            .WithSummary("An item's counts and estimates, overall and per segment")
            .WithDescription("Impressions, clicks, CTR over 7 and 30 days, trend and heuristic score, overall and for every segment, with the level each estimate rests on (segment, item, prior): what to check when a ranking looks wrong.")
            .ProducesValidationProblem()
            .RequireScope(Scopes.Rank);
        app.MapPost("/items", StoreAsync)
            .WithName("Items")
            .WithSummary("Set items' attributes: a category and numeric attributes")
            .WithDescription("Each item replaces what it had. The batch is checked whole: any invalid item, or new items beyond the catalog's capacity (Limits:MaxItems, 422), refuses it and nothing changes. Stored items are durable when the response says so, and a surface's models read them as item.NAME (Serving:Surfaces:NAME:ItemFeatures) and through the user-history features.")
            .Produces<ItemBatchResponse>()
            .WithBodyProblems()
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .RequireScope(Scopes.Events)
            .ReadsBodyFirst()
            .RequireRateLimiting(ClientRateLimits.EventsPolicy);
        return app;
    }

    /// <summary>200 with the count stored; 400 naming the fields when any item is invalid; 422 when the catalog is full; 503 when the store cannot take it.</summary>
    public static async Task<Results<Ok<ItemBatchResponse>, ValidationProblem, ProblemHttpResult>> StoreAsync(
        ItemBatchRequest request, ItemIngestor ingestor, LimitsOptions limits, HttpContext http, CancellationToken cancellationToken)
    {
        if (request.Items is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["items"] = ["items is required: an array of items."] }, title: "Invalid item batch");
        }

        if (request.Items.Count > limits.MaxItemsPerBatch)
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["items"] = [$"the batch has {request.Items.Count} items; the limit is {limits.MaxItemsPerBatch} (Limits:MaxItemsPerBatch)."] },
                title: "Invalid item batch");
        }

        ItemIngestResult result;
        try
        {
            result = await ingestor.StoreAsync([.. request.Items.Select(i => i is null ? null : new ItemInput(i.Id, i.Category, i.Attributes))], cancellationToken);
        }
        catch (Core.Storage.StoreUnavailableException e)
        {
            http.Response.Headers.RetryAfter = "1";
            return TypedResults.Problem(detail: $"The store is unavailable; nothing in this batch was stored. Retry later. ({e.Message})", statusCode: StatusCodes.Status503ServiceUnavailable, title: "Store unavailable");
        }

        if (result.Errors.Count > 0)
        {
            return TypedResults.ValidationProblem(result.Errors, title: "Invalid item batch");
        }

        if (result.CatalogFull)
        {
            return TypedResults.Problem(
                detail: $"The batch's new items would take the catalog past its {limits.MaxItems:N0} items (Limits:MaxItems); nothing was stored.",
                statusCode: StatusCodes.Status422UnprocessableEntity,
                title: "Item catalog full",
                extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["items"] = ["the catalog is full"] } });
        }

        return TypedResults.Ok(new ItemBatchResponse(result.Stored));
    }

    public static Results<Ok<ItemStatsResponse>, ValidationProblem> GetStats(string id, ItemStatsService stats)
    {
        var parameters = new Parameters();
        parameters.Id("route.id", id);
        return parameters.Valid ? TypedResults.Ok(ItemStatsResponse.Of(stats.Compute(id))) : parameters.Problem("Invalid item id");
    }
}
