using Lasthope.Core.Segments;
using Lasthope.Server.Cascade;
using Lasthope.Server.State;

namespace Lasthope.Server.Ranking;

/// <summary>
/// The one routine that fills feature rows: for the candidates at heuristic positions [0, rows) of a request, their
/// built-in features (from the estimates the heuristic already computed, plus each item's overall estimate and
/// tallies) and the request's features, in a binding's column order. The model's matrix and the features logged
/// without a model both come from here.
/// </summary>
public sealed class FeatureRows(CounterState state, SegmentScheme segments, ItemCatalog catalog, UserHistory history, TimeProvider time)
{
    internal void Fill(FeatureBinding binding, RankWork work, int rows, Span<double> destination) => Fill(binding, work, rows, [], destination);

    /// <summary>Fills the rows of the candidates at the given heuristic positions (an explored list's shown items), in that order.</summary>
    internal void Fill(FeatureBinding binding, RankWork work, ReadOnlySpan<int> heuristicPositions, Span<double> destination) =>
        Fill(binding, work, heuristicPositions.Length, heuristicPositions, destination);

    private void Fill(FeatureBinding binding, RankWork work, int rows, ReadOnlySpan<int> heuristicPositions, Span<double> destination)
    {
        var counters = state.Counters;
        var overall = counters.BeginEstimation(SegmentScheme.Unknown);
        var segmentId = SegmentId(work.Segment);
        var now = time.GetUtcNow();
        var ids = work.Command.CandidateIds;
        var columns = binding.Count;
        Span<double> builtIns = stackalloc double[BuiltInFeatures.Count];
        var user = binding.UsesUserHistory && work.Command.UserId is { } userId ? Clicks(userId, now) : null;
        for (var r = 0; r < rows; r++)
        {
            var rank = heuristicPositions.IsEmpty ? r : heuristicPositions[r];
            var index = work.Order[rank];
            var described = counters.Describe(work.Estimates[index], overall, ids[index]);
            BuiltInFeatures.Compute(work.Scores[index], rank + 1, described, segmentId, now, builtIns);
            var item = binding.UsesItems ? catalog.Find(ids[index]) : null;
            binding.Fill(new CandidateFeatures(builtIns, work.Command.FeaturesOf(index), ids[index], item, user), destination.Slice(r * columns, columns));
        }
    }

    /// <summary>The user's recent clicks, counted by item and by the items' categories (read once per request).</summary>
    private UserClickCounts Clicks(string userId, DateTimeOffset now)
    {
        Span<string?> recent = new string?[UserHistory.PerUser];
        var count = history.Recent(userId, now, recent);
        return new UserClickCounts(recent[..count], item => catalog.Find(item)?.Category);
    }

    /// <summary>The segment's index in the age x gender grid, or NaN outside it.</summary>
    private double SegmentId(string segment)
    {
        var grid = segments.GridSegments;
        for (var i = 0; i < grid.Count; i++)
        {
            if (grid[i] == segment)
            {
                return i;
            }
        }

        return double.NaN;
    }
}
