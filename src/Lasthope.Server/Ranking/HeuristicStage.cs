using System.Diagnostics;
using Lasthope.Counters;
using Lasthope.Server.Cascade;
using Lasthope.Server.State;

namespace Lasthope.Server.Ranking;

/// <summary>
/// Stage 1, always: the last hope. In a CPU turn of its own (the wait counts as "wait"), it scores every candidate for
/// the request's segment, keeps each candidate's estimate for the features, and orders only the best max(K, count),
/// or the n' an explored request draws from: the model's block and the served list need no more. Its order is the
/// first phase and the answer of last resort.
/// <para>
/// It has a deadline of its own: it waits for its turn only while the turn can still come in time for the stage to
/// finish by the request's deadline (the remaining time less the heuristic's average stage). A request whose turn
/// would come later, or does not come in time, is answered at once, without a turn, by the <see cref="LastResort"/>'s
/// precomputed table of its segment, with the note "last_resort" (and "overload" when a model was meant): never queued past its budget.
/// </para>
/// </summary>
public sealed class HeuristicStage(CounterState state, ScoringGate gate, LastResort lastResort)
{
    internal async ValueTask RunAsync(RankWork work, CancellationToken cancellationToken)
    {
        var n = work.CandidateCount;
        var ids = work.Command.CandidateIds;
        var policy = work.Policy;
        var needed = Math.Max(Math.Max(policy.Meant ? policy.Depth : 0, work.Command.Count), policy.Explored ? Exploration.PoolSize(policy.Exploration, n) : 0);
        if (!await gate.EnterHeuristicAsync(work.Remaining - TimeSpan.FromMilliseconds(gate.AverageHeuristicMs), cancellationToken))
        {
            work.Mark("wait");
            work.Summary = lastResort.Answer(work, needed);
            work.LastResort = true;
            work.Notes.Add("last_resort");
            work.Mark("last_resort");
            AddNotes(work);
            return;
        }

        work.Mark("wait");
        var started = Stopwatch.GetTimestamp();
        try
        {
            work.Summary = state.Ranker.Score(work.Segment, ids, work.Scores.AsSpan(0, n), work.Estimates.AsSpan(0, n));
            LastHopeRanker.Order(ids, work.Scores, work.Order.AsSpan(0, n), needed);
        }
        finally
        {
            gate.ExitHeuristic(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        work.Mark("heuristic");
        AddNotes(work);
    }

    private static void AddNotes(RankWork work)
    {
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
