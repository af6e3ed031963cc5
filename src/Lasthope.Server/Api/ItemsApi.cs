using Lasthope.Core.Segments;
using Lasthope.Counters;
using Lasthope.Server.Ingestion;
using Lasthope.Server.Security;
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
        app.MapGet("/v1/items/{id}/stats", GetStats).WithName("ItemStats").RequireScope(Scopes.Rank);
        return app;
    }

    public static Results<Ok<ItemStatsResponse>, ValidationProblem> GetStats(string id, CounterState state, SegmentScheme segments)
    {
        var parameters = new Parameters();
        parameters.Id("route.id", id);
        return parameters.Valid ? TypedResults.Ok(Compute(id, state, segments)) : parameters.Problem("Invalid item id");
    }

    /// <summary>
    /// Counts, smoothed CTRs, trend and heuristic score of an item, overall and for every segment of the grid and every
    /// other segment that has data on it. An unknown item is reported too (from the priors), with Known = false.
    /// </summary>
    public static ItemStatsResponse Compute(string itemId, CounterState state, SegmentScheme segments)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(segments);
        var counters = state.Counters;
        var withData = counters.SegmentsOf(itemId);
        var names = segments.GridSegments.Concat(withData.Where(s => s != SegmentScheme.Unknown)).Distinct(StringComparer.Ordinal).ToList();
        if (withData.Contains(SegmentScheme.Unknown))
        {
            names.Add(SegmentScheme.Unknown);
        }

        var overall = Row(itemId, SegmentScheme.Unknown, "overall", state);
        var rows = names.Select(s => Row(itemId, s, s, state)).ToList();
        return new ItemStatsResponse(itemId, !string.Equals(overall.Level, nameof(EstimateLevel.Prior), StringComparison.OrdinalIgnoreCase), state.Ranker.Version, overall, rows);
    }

    private static SegmentStatsDto Row(string itemId, string segment, string label, CounterState state)
    {
        var counters = state.Counters;
        var estimate = counters.Estimate(counters.BeginEstimation(segment), itemId);
        var (overall, bySegment) = counters.ReadTallies(itemId, segment);
        var tallies = label == "overall" ? overall : bySegment;
        return new SegmentStatsDto(
            label,
            tallies.ShortWindow.Impressions,
            tallies.ShortWindow.Clicks,
            tallies.LongWindow.Impressions,
            tallies.LongWindow.Clicks,
            estimate.Ctr7d,
            estimate.Ctr30d,
            estimate.Trend,
            state.Ranker.Score(estimate),
            estimate.Level.ToString().ToLowerInvariant());
    }
}
