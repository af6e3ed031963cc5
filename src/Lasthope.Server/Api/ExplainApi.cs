using Lasthope.Core.Events;
using Lasthope.Core.Serving;
using Lasthope.Core.Storage;
using Lasthope.Counters;
using Lasthope.Server.Cascade;
using Lasthope.Server.Configuration;
using Lasthope.Server.Ingestion;
using Lasthope.Server.Models;
using Lasthope.Server.Security;
using Lasthope.Server.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Lasthope.Server.Api;

/// <summary>One explained item of a served list.</summary>
public sealed record ExplainedItemDto(
    string Id,
    int Position,
    ItemSource Source,
    double Score,
    IReadOnlyDictionary<string, double?>? Features,
    IReadOnlyDictionary<string, double>? Attributions,
    double? Bias);

/// <summary>GET /v1/rank/{requestId}/explain.</summary>
public sealed record ExplainResponse(
    string RequestId,
    ServedBy ServedBy,
    FallbackReason? FallbackReason,
    string? ModelVersion,
    string HeuristicVersion,
    string Method,
    IReadOnlyList<string>? FeatureNames,
    IReadOnlyList<ExplainedItemDto> Items);

/// <summary>
/// Why a served request ranked as it did: the logged feature vectors and, per item, attributions. For model-placed
/// items: Saabas path attributions by default (cheap: one tree walk per item) or exact TreeSHAP with
/// <c>?method=shap</c>; both add up, with the bias, to the model's score. For heuristic-placed items: the heuristic's
/// own terms (a_week·CTR_7d, a_trend·trend, a_month·CTR_30d).
/// </summary>
public static class ExplainApi
{
    public static IEndpointRouteBuilder MapExplainApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/rank/{requestId}/explain", ExplainAsync)
            .WithName("Explain")
            .WithSummary("Why a served ranking ranked as it did")
            .WithDescription("The logged feature vector of each served item and its attributions: Saabas path attributions (method=path, the default) or exact TreeSHAP (method=shap) for model-placed items, the heuristic's own terms for heuristic-placed ones. With the bias they add up to the score.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .RequireScope(Scopes.Rank);
        return app;
    }

    public static async Task<Results<Ok<ExplainResponse>, ProblemHttpResult, ValidationProblem>> ExplainAsync(
        string requestId, string? method, RecentRankings recent, IEventStore store, ModelRegistry registry, CounterState state, CancellationToken cancellationToken)
    {
        var parameters = new Parameters();
        parameters.Id("route.requestId", requestId);
        method = parameters.OneOf("method", method, "path", "shap");
        if (!parameters.Valid)
        {
            return parameters.Problem("Invalid explain request");
        }

        var ranking = recent.FindFull(requestId) ?? await store.FindRankingAsync(requestId, cancellationToken);
        if (ranking is null)
        {
            return Problems.NotFound("route.requestId", "Request not found", $"No served ranking '{requestId}' is logged.");
        }

        var log = ranking.Features;
        LoadedModel? model = null;
        if (ranking.ModelVersion is { } version && ranking.RerankDepth > 0)
        {
            model = await registry.GetAsync(ranking.Surface, version, cancellationToken);
        }

        if (method == "shap" && model is { Model.HasCovers: false })
        {
            return TypedResults.Problem(
                detail: $"TreeSHAP needs the training count of every node, which the model {model.Version} does not carry; method=path explains it.",
                statusCode: StatusCodes.Status422UnprocessableEntity,
                title: "Cannot explain with TreeSHAP",
                extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["query.method"] = ["this model has no node counts for TreeSHAP; use method=path"] } });
        }

        var heuristic = state.Ranker.Options;
        var items = new List<ExplainedItemDto>(ranking.Items.Count);
        foreach (var item in ranking.Items)
        {
            var row = log is null ? -1 : IndexOf(log.ItemIds, item.ItemId);
            Dictionary<string, double?>? features = null;
            if (row >= 0)
            {
                // JSON has no NaN: a missing value is null.
                features = new Dictionary<string, double?>(StringComparer.Ordinal);
                for (var c = 0; c < log!.Names.Count; c++)
                {
                    var value = log.Values[(row * log.Names.Count) + c];
                    features[log.Names[c]] = double.IsNaN(value) ? null : value;
                }
            }

            Dictionary<string, double>? attributions = null;
            double? bias = null;
            if (item.Source == ItemSource.Model && model is not null && row >= 0 && SameColumns(log!.Names, model.Binding.Names))
            {
                var values = log.Values.AsSpan(row * log.Names.Count, log.Names.Count);
                var phi = new double[model.Model.FeatureCount + 1];
                if (method == "shap")
                {
                    model.Model.ExplainShap(values, phi);
                }
                else
                {
                    model.Model.ExplainPath(values, phi);
                }

                attributions = new Dictionary<string, double>(StringComparer.Ordinal);
                for (var c = 0; c < model.Model.FeatureCount; c++)
                {
                    attributions[model.Binding.Names[c]] = phi[c];
                }

                bias = phi[^1];
            }
            else if (item.Source == ItemSource.Heuristic && features is not null
                && features.TryGetValue(BuiltInFeatures.Ctr7dSegment, out var ctr7) && ctr7 is not null
                && features.TryGetValue(BuiltInFeatures.TrendSegment, out var trend) && trend is not null
                && features.TryGetValue(BuiltInFeatures.Ctr30dSegment, out var ctr30) && ctr30 is not null)
            {
                attributions = new Dictionary<string, double>(StringComparer.Ordinal)
                {
                    [BuiltInFeatures.Ctr7dSegment] = heuristic.WeekWeight * ctr7.Value,
                    [BuiltInFeatures.TrendSegment] = heuristic.TrendWeight * trend.Value,
                    [BuiltInFeatures.Ctr30dSegment] = heuristic.MonthWeight * ctr30.Value,
                };
                bias = 0;
            }

            items.Add(new ExplainedItemDto(item.ItemId, item.Position, item.Source, item.Score, features, attributions, bias));
        }

        return TypedResults.Ok(new ExplainResponse(
            ranking.RequestId, ranking.ServedBy, ranking.FallbackReason, ranking.ModelVersion, ranking.HeuristicVersion, method, log?.Names, items));
    }

    private static bool SameColumns(IReadOnlyList<string> a, IReadOnlyList<string> b) => a.Count == b.Count && a.SequenceEqual(b, StringComparer.Ordinal);

    private static int IndexOf(IReadOnlyList<string> ids, string id)
    {
        for (var i = 0; i < ids.Count; i++)
        {
            if (ids[i] == id)
            {
                return i;
            }
        }

        return -1;
    }
}
