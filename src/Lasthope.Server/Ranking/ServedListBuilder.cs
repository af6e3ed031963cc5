using System.Collections.Concurrent;
using System.Diagnostics;
using Lasthope.Core.Events;
using Lasthope.Core.Serving;
using Lasthope.Server.Cascade;
using Lasthope.Server.Configuration;

namespace Lasthope.Server.Ranking;

/// <summary>
/// Stage 5: the served list. The model's scored prefix is re-sorted by model score and placed above the rest, which
/// keeps its heuristic order; model scores are never interleaved with heuristic scores. The list is logged with the
/// whole served-path contract and the feature vectors of the shown items: exactly the rows the model scored, or,
/// without a model, their built-in and request features, so that a first model can be trained from heuristic traffic.
/// The surface's (or arm's) exploration policy may instead draw the shown items from the top n' of that list
/// (<see cref="Exploration"/>); an explored list logs the features of the items it showed and of the top of the list
/// it would have shown (<see cref="ExplorationOptions.LogTop"/>), so that a candidate's list can be recomputed offline.
/// </summary>
public sealed class ServedListBuilder(FeatureRows features, ServingOptions serving, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, FeatureBinding> _loggedWithoutModel = new(StringComparer.Ordinal);

    internal RankingLog Build(RankWork work, ModelOutcome outcome, string heuristicVersion)
    {
        var command = work.Command;
        var depth = outcome.Depth;
        if (depth > 0)
        {
            Rerank(work, depth);
        }

        var count = Math.Min(command.Count, work.CandidateCount);
        var policy = work.Policy;
        var exploration = policy.Exploration;
        var pool = Exploration.PoolSize(exploration, work.CandidateCount);
        Span<int> drawn = count <= 256 ? stackalloc int[count] : new int[count];
        var explored = Exploration.Draw(policy.Explored, pool, command.RequestId, drawn);
        var served = new ServedItem[count];
        for (var p = 0; p < count; p++)
        {
            // q: the item's position in the list the request would have shown unexplored.
            var q = drawn[p];
            var propensity = Exploration.Propensity(exploration, pool, p, q);
            served[p] = q < depth
                ? new ServedItem(command.CandidateIds[work.Order[work.Reranked![q]]], p + 1, work.ModelScores![work.Reranked[q]], ItemSource.Model, propensity)
                : new ServedItem(command.CandidateIds[work.Order[q]], p + 1, work.Scores[work.Order[q]], ItemSource.Heuristic, propensity);
        }

        var ranked = explored ? Math.Min(exploration!.LogTop, pool) : 0;
        var logged = explored ? LogExploredFeatures(work, outcome, drawn, ranked) : LogFeatures(work, outcome, served);
        work.Timings["total"] = Stopwatch.GetElapsedTime(work.Arrival).TotalMilliseconds;
        return new RankingLog
        {
            RequestId = command.RequestId,
            Time = command.EventTime ?? time.GetUtcNow(),
            UserId = command.UserId,
            Segment = work.Segment,
            Surface = command.Surface,
            Items = served,
            ServedBy = outcome.ServedBy,
            FallbackReason = outcome.Reason,
            ModelVersion = policy.Model?.Version ?? policy.WantedVersion,
            HeuristicVersion = heuristicVersion,
            RerankDepth = depth,
            BudgetMs = policy.Meant ? work.BudgetMs : 0,
            Experiment = policy.Assignment is { } a ? new ExperimentArm(a.ExperimentId, a.Arm.Name) : null,
            TimingsMs = work.Timings,
            Notes = work.Notes,
            Features = logged,
            Explored = explored,
            Exploration = pool > 0 ? new ExplorationLog(exploration!.Fraction, pool, logged is null ? 0 : ranked) : null,
        };
    }

    /// <summary>
    /// Fills <see cref="RankWork.Reranked"/> with the positions 0..depth-1 of the heuristic prefix sorted by model score
    /// descending, ties kept in heuristic order: a stable, total order. The prefix itself is not moved, so each
    /// re-ranked item still finds its feature row.
    /// </summary>
    private static void Rerank(RankWork work, int depth)
    {
        var positions = work.Reranked.AsSpan(0, depth);
        for (var i = 0; i < depth; i++)
        {
            positions[i] = i;
        }

        positions.Sort(new ByModelScore(work.ModelScores!));
    }

    private FeatureLog? LogFeatures(RankWork work, ModelOutcome outcome, ServedItem[] served)
    {
        if (outcome.Depth > 0)
        {
            var binding = work.Policy.Model!.Binding;
            var columns = binding.Count;
            var shown = Math.Min(served.Length, outcome.Depth);
            var values = new double[shown * columns];
            var ids = new string[shown];
            for (var i = 0; i < shown; i++)
            {
                ids[i] = served[i].ItemId;
                work.Matrix.AsSpan(work.Reranked![i] * columns, columns).CopyTo(values.AsSpan(i * columns, columns));
            }

            return new FeatureLog(binding.Names, ids, values);
        }

        if (!serving.LogFeaturesWithoutModel || outcome.Reason == FallbackReason.FeaturesUnavailable)
        {
            return null;
        }

        var everything = Everything(work.Command.Surface);
        var all = new double[served.Length * everything.Count];
        features.Fill(everything, work, served.Length, all); // served in heuristic order: rank i + 1
        return new FeatureLog(everything.Names, [.. served.Select(s => s.ItemId)], all);
    }

    /// <summary>
    /// The features of an explored list: the top L of the list it would have shown unexplored, in that order, then its
    /// shown items drawn from deeper, in served order. Some come from past the model's depth, so all are logged with
    /// the built-in and request features (by name, as a model's own are) at their heuristic positions.
    /// </summary>
    private FeatureLog? LogExploredFeatures(RankWork work, ModelOutcome outcome, ReadOnlySpan<int> drawn, int ranked)
    {
        if (outcome.Reason == FallbackReason.FeaturesUnavailable)
        {
            return null;
        }

        var deeper = 0;
        foreach (var q in drawn)
        {
            deeper += q >= ranked ? 1 : 0;
        }

        var rows = ranked + deeper;
        Span<int> unexplored = rows <= 512 ? stackalloc int[rows] : new int[rows];
        for (var r = 0; r < ranked; r++)
        {
            unexplored[r] = r;
        }

        var next = ranked;
        foreach (var q in drawn)
        {
            if (q >= ranked)
            {
                unexplored[next++] = q;
            }
        }

        // An unexplored position q holds the model's q-th item within its depth, the heuristic's q-th past it.
        var depth = outcome.Depth;
        Span<int> positions = rows <= 512 ? stackalloc int[rows] : new int[rows];
        var ids = new string[rows];
        for (var r = 0; r < rows; r++)
        {
            var q = unexplored[r];
            positions[r] = q < depth ? work.Reranked![q] : q;
            ids[r] = work.Command.CandidateIds[work.Order[positions[r]]];
        }

        var everything = Everything(work.Command.Surface);
        var values = new double[rows * everything.Count];
        features.Fill(everything, work, positions, values);
        return new FeatureLog(everything.Names, ids, values);
    }

    private FeatureBinding Everything(string surface) =>
        _loggedWithoutModel.GetOrAdd(surface, static (surface, options) => FeatureBinding.Everything(surface, options.Surface(surface)), serving);

    /// <summary>Model score descending, then heuristic position ascending.</summary>
    private readonly struct ByModelScore(double[] scores) : IComparer<int>
    {
        public int Compare(int x, int y)
        {
            var byScore = scores[y].CompareTo(scores[x]);
            return byScore != 0 ? byScore : x.CompareTo(y);
        }
    }
}
