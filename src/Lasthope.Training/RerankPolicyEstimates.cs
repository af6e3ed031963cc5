using Lasthope.Core.Events;
using Lasthope.Core.Storage;
using Lasthope.Evaluation;
using Lasthope.Server.Cascade;
using Lasthope.Trees;

namespace Lasthope.Training;

/// <summary>
/// A policy that orders the top L of an explored request's unexplored list from its logged feature rows
/// (<see cref="ExplorationLog.Ranked"/>) and shows the first of that order: what a re-ranker with depth L would serve.
/// </summary>
public abstract class RerankPolicy
{
    /// <summary>How it is named in reports: a model's version or file, "heuristic", "unexplored".</summary>
    public abstract string Name { get; }

    /// <summary>The served list when no exploration applies: the logged order of the top L.</summary>
    public static RerankPolicy Unexplored { get; } = new LoggedOrder();

    /// <summary>The last-hope heuristic: its logged score (ties in logged order).</summary>
    public static RerankPolicy Heuristic { get; } = new Column(BuiltInFeatures.HeuristicScore, "heuristic");

    /// <summary>A tree model scoring the rows (its columns found by name among the logged ones; NaN where not logged).</summary>
    public static RerankPolicy Model(TreeModel model, string name) => new ModelScores(model, name);

    /// <summary>Scores the first <paramref name="rows"/> rows of <paramref name="log"/>; a higher score is shown first.</summary>
    public abstract void Score(FeatureLog log, int rows, Span<double> scores);

    /// <summary>
    /// The row shown at each position under this policy: rows sorted by score descending, ties in logged order (the
    /// heuristic's, as the server breaks them).
    /// </summary>
    internal int[] Order(FeatureLog log, int rows, int shown)
    {
        var scores = new double[rows];
        Score(log, rows, scores);
        var order = Enumerable.Range(0, rows).ToArray();
        Array.Sort(order, (x, y) =>
        {
            var byScore = scores[y].CompareTo(scores[x]);
            return byScore != 0 ? byScore : x.CompareTo(y);
        });
        return order[..Math.Min(shown, rows)];
    }

    private sealed class LoggedOrder : RerankPolicy
    {
        public override string Name => "unexplored";

        public override void Score(FeatureLog log, int rows, Span<double> scores)
        {
            for (var r = 0; r < rows; r++)
            {
                scores[r] = -r;
            }
        }
    }

    private sealed class Column(string column, string name) : RerankPolicy
    {
        public override string Name => name;

        public override void Score(FeatureLog log, int rows, Span<double> scores)
        {
            var c = log.ColumnsOf([column])[0];
            for (var r = 0; r < rows; r++)
            {
                scores[r] = c >= 0 ? log.Values[(r * log.Names.Count) + c] : -r;
            }
        }
    }

    private sealed class ModelScores(TreeModel model, string name) : RerankPolicy
    {
        public override string Name => name;

        public override void Score(FeatureLog log, int rows, Span<double> scores)
        {
            var columns = model.FeatureNames.Count;
            var map = log.ColumnsOf(model.FeatureNames);
            var matrix = new double[rows * columns];
            for (var r = 0; r < rows; r++)
            {
                log.CopyRow(r, map, matrix.AsSpan(r * columns, columns));
            }

            model.Score(matrix, scores[..rows]);
        }
    }
}

/// <summary>What to compare: a surface's explored rankings in a window of event time, and the two policies.</summary>
public sealed record RerankEstimateRequest
{
    public required string Surface { get; init; }

    public required RerankPolicy Candidate { get; init; }

    public required RerankPolicy Baseline { get; init; }

    public DateTimeOffset Since { get; init; } = DateTimeOffset.MinValue;

    public DateTimeOffset Until { get; init; } = DateTimeOffset.MaxValue;

    public double Level { get; init; } = 0.95;

    public int Resamples { get; init; } = 1000;
}

/// <summary>
/// Two re-ranking policies' CTRs estimated on the same explored rankings, with the paired difference; beside them the
/// explored requests' own CTR (the uniform policy's, on-policy).
/// </summary>
/// <param name="Rankings">Explored rankings of the surface in the window.</param>
/// <param name="RankingsSkipped">Of those, the ones that logged fewer ranked rows than they showed items (LogTop below the served count, or features not logged).</param>
/// <param name="Depth">The largest L among the rankings used: the depth the policies re-rank.</param>
public sealed record RerankEstimateReport(
    string Surface,
    string Candidate,
    string Baseline,
    long Rankings,
    long RankingsSkipped,
    int Depth,
    OffPolicyComparison Comparison,
    double ExploredCtr);

/// <summary>
/// Off-policy estimates of policies that re-rank the top L of the served list, from explored traffic alone. An
/// explored request shows an ordered draw, uniform over the ordered subsets of its pool of n' items, so any pool item
/// sits at a given position with probability 1/n' (<c>Exploration</c> in the server), whatever the context; the
/// explored requests are a fraction chosen by a hash of the request id, so they are an unbiased sample of all
/// requests. Under the item-position click model (Li et al., KDD 2018), a target policy's CTR is then estimated from
/// each shown (item, position) with weight n' when the policy would show that item there, 0 otherwise; the policy's
/// list is recomputed from the logged rows of the top L. Needs <c>Exploration:LogTop</c> at least the served count.
/// </summary>
public sealed class RerankPolicyEstimates(IEventStore store)
{
    /// <summary>The most impressions one estimate holds.</summary>
    public const int MaxImpressions = 5_000_000;

    public async Task<RerankEstimateReport> CompareAsync(RerankEstimateRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var impressions = new List<Impression>();
        var index = new Dictionary<(string Request, string Item), int>();
        long rankings = 0, skipped = 0;
        var depth = 0;
        await foreach (var entry in store.ReadLogAsync(request.Since, cancellationToken))
        {
            if (entry.Ranking is not { Explored: true } ranking || ranking.Surface != request.Surface || ranking.Time >= request.Until)
            {
                continue;
            }

            rankings++;
            var ranked = ranking.Exploration?.Ranked ?? 0;
            if (ranking.Features is not { } log || ranked < ranking.Items.Count || ranked > log.ItemIds.Count)
            {
                skipped++;
                continue;
            }

            if (impressions.Count + ranking.Items.Count > MaxImpressions)
            {
                throw new PolicyEstimateException($"surface '{request.Surface}' has more than {MaxImpressions:N0} explored impressions in the window; estimate a shorter one.");
            }

            depth = Math.Max(depth, ranked);
            var candidate = request.Candidate.Order(log, ranked, ranking.Items.Count);
            var baseline = request.Baseline.Order(log, ranked, ranking.Items.Count);
            var pool = ranking.Exploration!.Pool;
            var fold = PositionCtr.Fold(ranking.RequestId);
            foreach (var item in ranking.Items)
            {
                var p = item.Position - 1;
                if (index.TryAdd((ranking.RequestId, item.ItemId), impressions.Count))
                {
                    impressions.Add(new Impression(
                        1.0 / pool,
                        p < candidate.Length && log.ItemIds[candidate[p]] == item.ItemId ? 1 : 0,
                        p < baseline.Length && log.ItemIds[baseline[p]] == item.ItemId ? 1 : 0,
                        item.Position,
                        fold));
                }
            }
        }

        if (impressions.Count == 0)
        {
            throw new PolicyEstimateException(rankings == 0
                ? $"the store has no explored rankings of surface '{request.Surface}' in the window: turn exploration on (Serving:Surfaces:{request.Surface}:Exploration)"
                : $"none of the {rankings:N0} explored rankings of surface '{request.Surface}' logged the rows of their unexplored top: set Exploration:LogTop to at least the served count");
        }

        var clicks = await PositionCtr.ClicksAsync(store, request.Since, index, impressions.Count, cancellationToken);

        // Every policy here fills the same positions, so a reward model of the position alone predicts the same for
        // the target's slot as for the logged one (see LoggedPolicyEstimates).
        var q = PositionCtr.CrossFitted(impressions.Select(i => (i.Fold, i.Position)).ToArray(), clicks);
        var a = new LoggedDecision[impressions.Count];
        var b = new LoggedDecision[impressions.Count];
        for (var i = 0; i < a.Length; i++)
        {
            var reward = clicks[i] ? 1 : 0;
            a[i] = new LoggedDecision(reward, impressions[i].Propensity, impressions[i].Candidate, q[i], q[i]);
            b[i] = new LoggedDecision(reward, impressions[i].Propensity, impressions[i].Baseline, q[i], q[i]);
        }

        var comparison = OffPolicy.Compare(a, b, request.Level, request.Resamples);
        return new RerankEstimateReport(request.Surface, request.Candidate.Name, request.Baseline.Name, rankings, skipped, depth, comparison, a.Average(d => d.Reward));
    }

    private readonly record struct Impression(double Propensity, double Candidate, double Baseline, int Position, int Fold);
}
