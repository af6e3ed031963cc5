using Lasthope.Core.Events;
using Lasthope.Core.Segments;
using Lasthope.Server.Cascade;
using Lasthope.Server.State;
using Lasthope.Server.Telemetry;

namespace Lasthope.Server.Ranking;

/// <summary>
/// What follows a served list, for rankings and recommendations alike: its impressions are counted in memory at once,
/// it is remembered for click attribution (here, and in the replicas' shared state when there is one), its user's segment is remembered, and it is queued on the bounded
/// impression log (nothing on the request path waits for the store; a full queue drops and counts). Metrics record it
/// by surface, arm, servedBy and reason, with the stage timings and the depth the model reached.
/// </summary>
public sealed class RankRecorder(CounterState state, RecentRankings recent, UserSegments users, ImpressionLog log, FallbackWindow fallbacks, LasthopeMetrics metrics, ISharedState shared)
{
    /// <param name="ranking">The served ranking.</param>
    /// <param name="modelMeant">A model was meant to serve it: it counts in the fallback-rate alarm, and its depth in the depth histogram.</param>
    public void Record(RankingLog ranking, bool modelMeant)
    {
        ArgumentNullException.ThrowIfNull(ranking);
        state.ApplyServed(ranking);
        recent.Add(ranking);
        var segmentedUser = ranking.Segment == SegmentScheme.Unknown ? null : ranking.UserId; // an unknown segment is not remembered
        shared.Publish(ranking, segmentedUser);
        if (segmentedUser is not null)
        {
            users.Remember(segmentedUser, ranking.Segment);
        }

        if (!log.Enqueue(ranking) && ranking.Features is not null)
        {
            metrics.FeatureLogDropped(1);
        }

        var total = ranking.TimingsMs?.GetValueOrDefault("total") ?? 0;
        if (modelMeant)
        {
            fallbacks.Record(ranking.ServedBy);
            if (ranking.FallbackReason is null)
            {
                metrics.RerankDepth(ranking.Surface, ranking.RerankDepth);
            }
        }

        metrics.RankServed(ranking.Surface, ranking.Experiment?.Arm, ranking.ServedBy, ranking.FallbackReason, total / 1000, ranking.Items.Count);
        if (ranking.TimingsMs is { } timings)
        {
            foreach (var (stage, ms) in timings)
            {
                if (stage != "total")
                {
                    metrics.Stage(stage, ranking.ServedBy, ms / 1000);
                }
            }
        }
    }
}
