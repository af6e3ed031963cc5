using Lasthope.Counters;
using Lasthope.Server.Cascade;
using Lasthope.Server.State;

namespace Lasthope.Server.Ranking;

/// <summary>
/// Stage 1, always: the last hope. In a CPU turn of its own (the wait counts as "wait"), it scores every candidate for
/// the request's segment, keeps each candidate's estimate for the features, and orders only the best max(K, count),
/// or the n' an explored request draws from: the model's block and the served list need no more. Its order is the first phase and the answer of last resort.
/// </summary>
public sealed class HeuristicStage(CounterState state, ScoringGate gate)
{
    internal async ValueTask RunAsync(RankWork work, CancellationToken cancellationToken)
    {
        await gate.EnterAsync(cancellationToken);
        work.Mark("wait");
        try
        {
            var n = work.CandidateCount;
            var ids = work.Command.CandidateIds;
            work.Summary = state.Ranker.Score(work.Segment, ids, work.Scores.AsSpan(0, n), work.Estimates.AsSpan(0, n));
            var policy = work.Policy;
            var needed = Math.Max(Math.Max(policy.Meant ? policy.Depth : 0, work.Command.Count), policy.Explored ? Exploration.PoolSize(policy.Exploration, n) : 0);
            LastHopeRanker.Order(ids, work.Scores, work.Order.AsSpan(0, n), needed);
        }
        finally
        {
            gate.Exit();
        }

        work.Mark("heuristic");
        if (work.Summary.CountersEmpty)
        {
            work.Notes.Add("empty_counters");
        }

        if (work.Summary.UnknownItems > 0)
        {
            work.Notes.Add("unknown_items");
        }
    }
}
