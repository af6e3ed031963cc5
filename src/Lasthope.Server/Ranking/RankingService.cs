using System.Diagnostics;
using Lasthope.Core.Events;
using Lasthope.Core.Serving;
using Lasthope.Server.Cascade;
using Lasthope.Server.Configuration;
using Lasthope.Server.State;
using Lasthope.Server.Telemetry;

namespace Lasthope.Server.Ranking;

/// <summary>
/// Serves a rank request: the deadline cascade, as a pipeline of stages that each know one thing.
/// <list type="number">
/// <item><see cref="SegmentResolver"/>: the user's segment.</item>
/// <item><see cref="PolicyResolver"/>: whether a model is meant to re-rank (the surface's, or the experiment arm's), and K.</item>
/// <item><see cref="HeuristicStage"/>: the last hope scores every candidate; its order is the answer of last resort. When no CPU turn can come within the budget, the <see cref="LastResort"/>'s precomputed table orders them instead, and nothing more is computed.</item>
/// <item><see cref="ModelStage"/>: admission, the top K's features, and scoring in blocks until the deadline.</item>
/// <item><see cref="ServedListBuilder"/>: the scored prefix re-ranked above the rest, logged with its features.</item>
/// <item><see cref="RankRecorder"/>: counted, remembered, queued for the store, measured.</item>
/// </list>
/// When the model cannot finish, the heuristic ranking is served with the reason. Everything runs on the request's own
/// thread with cooperative cancellation, so abandoned work stops at the next block instead of running on. Buffers are
/// rented for the request and returned; nothing here knows HTTP.
/// </summary>
public sealed class RankingService(
    SegmentResolver segments,
    PolicyResolver policies,
    HeuristicStage heuristic,
    ModelStage model,
    ServedListBuilder served,
    RankRecorder recorder,
    CounterState state,
    ImpressionLog log,
    ServingOptions serving,
    TimeProvider time)
{
    /// <summary>The circuit breaker of a surface's model path.</summary>
    public CircuitBreaker Breaker(string surface) => model.Breaker(surface);

    /// <summary>Ranks a validated request. <paramref name="arrival"/> is the <see cref="Stopwatch"/> timestamp the budget counts from (now when 0).</summary>
    public async ValueTask<RankResult> RankAsync(RankCommand command, long arrival = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (arrival == 0)
        {
            arrival = Stopwatch.GetTimestamp();
        }

        if (command.EventTime is { } eventTime && time is EventClock clock)
        {
            clock.Advance(eventTime);
        }

        using var activity = LasthopeActivity.Source.StartActivity("rank");
        activity?.SetTag(LasthopeActivity.Tags.RequestId, command.RequestId);
        activity?.SetTag(LasthopeActivity.Tags.Surface, command.Surface);
        activity?.SetTag(LasthopeActivity.Tags.Candidates, command.CandidateIds.Length);
        var budgetMs = command.BudgetMs ?? serving.Surface(command.Surface).BudgetMs ?? serving.BudgetMs;
        using var work = new RankWork(command, arrival, budgetMs, serving.ResponseReserveMs);
        using (LasthopeActivity.Source.StartActivity("rank.segment"))
        {
            work.Segment = await segments.ResolveAsync(command.UserId, command.Age, command.Gender, command.ExplicitSegment, work.Notes, cancellationToken);
            work.Mark("segment");
            work.Policy = await policies.ResolveAsync(command, cancellationToken);
        }

        using (LasthopeActivity.Source.StartActivity("rank.heuristic"))
        {
            await heuristic.RunAsync(work, cancellationToken);
        }

        ModelOutcome outcome;
        if (work.LastResort)
        {
            // No turn came in time: nothing more is computed. A model meant to serve did not (overload); without one,
            // the heuristic served from its precomputed tables (the note says so), so a heuristic arm stays unmixed.
            outcome = work.Policy.Meant ? ModelOutcome.Fallback(FallbackReason.Overload) : ModelOutcome.NotMeant;
        }
        else
        {
            using (LasthopeActivity.Source.StartActivity("rank.model"))
            {
                outcome = await model.RunAsync(work, cancellationToken);
            }
        }

        if (log.StoreError is not null && !work.Notes.Contains("store_unavailable"))
        {
            work.Notes.Add("store_unavailable");
        }

        RankingLog ranking;
        using (LasthopeActivity.Source.StartActivity("rank.served_list"))
        {
            ranking = served.Build(work, outcome, state.Ranker.Version);
            recorder.Record(ranking, work.Policy.Meant);
        }

        activity.SetServedPath(ranking);
        return new RankResult(ranking, work.Summary.UnknownItems);
    }
}
