using Lasthope.Core.Segments;
using Lasthope.Counters;
using Lasthope.Server.State;

namespace Lasthope.Server.Stats;

/// <summary>Counter figures of one item in one segment (or overall).</summary>
/// <param name="Level">What the estimate rests on: segment (data on the item in the segment), item (data on the item overall, scaled), prior (no data).</param>
public sealed record SegmentStats(
    string Segment,
    double Impressions7d,
    double Clicks7d,
    double Impressions30d,
    double Clicks30d,
    double Ctr7d,
    double Ctr30d,
    double Trend,
    double HeuristicScore,
    string Level);

/// <summary>What the counters know of an item, overall and per segment.</summary>
public sealed record ItemStats(string ItemId, bool Known, string HeuristicVersion, SegmentStats Overall, IReadOnlyList<SegmentStats> Segments);

/// <summary>An item's counts and estimates: what a user checks when a ranking looks wrong (the API and the CLI's <c>stats</c>).</summary>
public sealed class ItemStatsService(CounterState state, SegmentScheme segments)
{
    /// <summary>
    /// Counts, smoothed CTRs, trend and heuristic score of an item, overall and for every segment of the grid and every
    /// other segment that has data on it. An unknown item is reported too (from the priors), with Known = false.
    /// </summary>
    public ItemStats Compute(string itemId)
    {
        var counters = state.Counters;
        var withData = counters.SegmentsOf(itemId);
        var names = segments.GridSegments.Concat(withData.Where(s => s != SegmentScheme.Unknown)).Distinct(StringComparer.Ordinal).ToList();
        if (withData.Contains(SegmentScheme.Unknown))
        {
            names.Add(SegmentScheme.Unknown);
        }

        var overall = Row(itemId, SegmentScheme.Unknown, "overall");
        var rows = names.Select(s => Row(itemId, s, s)).ToList();
        return new ItemStats(itemId, !string.Equals(overall.Level, nameof(EstimateLevel.Prior), StringComparison.OrdinalIgnoreCase), state.Ranker.Version, overall, rows);
    }

    private SegmentStats Row(string itemId, string segment, string label)
    {
        var counters = state.Counters;
        var estimate = counters.Estimate(counters.BeginEstimation(segment), itemId);
        var (overall, bySegment) = counters.ReadTallies(itemId, segment);
        var tallies = label == "overall" ? overall : bySegment;
        return new SegmentStats(
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
