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

/// <summary>GET /v1/items/{id}/stats: what a user checks when a ranking looks wrong.</summary>
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
        return app;
    }

    public static Results<Ok<ItemStatsResponse>, ValidationProblem> GetStats(string id, ItemStatsService stats)
    {
        var parameters = new Parameters();
        parameters.Id("route.id", id);
        return parameters.Valid ? TypedResults.Ok(ItemStatsResponse.Of(stats.Compute(id))) : parameters.Problem("Invalid item id");
    }
}
