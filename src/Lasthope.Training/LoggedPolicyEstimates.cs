using Lasthope.Core.Events;
using Lasthope.Core.Storage;
using Lasthope.Evaluation;

namespace Lasthope.Training;

/// <summary>A policy whose click-through rate can be estimated from a surface's log alone.</summary>
public enum TargetPolicy
{
    /// <summary>
    /// Every request explored: the shown positions a uniform draw from the top n' of the list (the pool the log
    /// names, or a given one for imported logs). Its probability of an (item, position) in the pool is 1/n'.
    /// </summary>
    Uniform,

    /// <summary>
    /// No request explored: the list the server would have shown. Its probability of a logged (item, position) is 1
    /// when the item is where the unexplored list had it (its propensity is the staying one, (1 - ε) + ε/n'), else 0.
    /// Needs ε below 1, where staying and moving have different propensities.
    /// </summary>
    Unexplored,
}

/// <summary>What to estimate: the surface's log since a time, the target, and for imported logs the pool.</summary>
public sealed record PolicyEstimateRequest
{
    public required string Surface { get; init; }

    public required TargetPolicy Policy { get; init; }

    public DateTimeOffset Since { get; init; } = DateTimeOffset.MinValue;

    /// <summary>n' for <see cref="TargetPolicy.Uniform"/> where the log does not say (an imported bandit log: its item count).</summary>
    public int? Pool { get; init; }

    public double Level { get; init; } = 0.95;

    public int Resamples { get; init; } = 1000;
}

/// <summary>
/// A target policy's estimated CTR (clicks per impression) with the three estimators, beside what the log itself
/// shows: its own CTR, and the CTRs of its explored and unexplored requests, which are on-policy samples of the
/// uniform and the unexplored policies when the log came from an exploring surface.
/// </summary>
public sealed record PolicyEstimateReport(
    string Surface,
    TargetPolicy Policy,
    long Rankings,
    long RankingsSkipped,
    OffPolicyReport Estimate,
    double LoggedCtr,
    double? ExploredCtr,
    long ExploredImpressions,
    double? UnexploredCtr,
    long UnexploredImpressions);

/// <summary>The log cannot answer (no rankings, or none the target can be evaluated on); the message says why.</summary>
public sealed class PolicyEstimateException(string message) : Exception(message);

/// <summary>
/// Off-policy estimates from a surface's own log, under the item-position click model (a click depends on the item
/// and its position only; Li et al., KDD 2018): each logged impression is one decision, its reward the click
/// attributed to it, its logging propensity the one the server logged (<c>ServedItem.Propensity</c>), its target
/// probability the target policy's for that item at that position. Two passes, as the experiment readout reads: the
/// rankings, then the events that name them (a click can be stored before its ranking). At most
/// <see cref="MaxImpressions"/> impressions are held; a longer window is refused.
/// </summary>
public sealed class LoggedPolicyEstimates(IEventStore store)
{
    /// <summary>The most impressions one estimate holds.</summary>
    public const int MaxImpressions = 5_000_000;

    private const double SameTolerance = 1e-9;

    public async Task<PolicyEstimateReport> EstimateAsync(PolicyEstimateRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Pool is < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(request), "--pool must be at least 2.");
        }

        var impressions = new List<Impression>();
        var index = new Dictionary<(string Request, string Item), int>();
        long rankings = 0, skipped = 0;
        await foreach (var entry in store.ReadLogAsync(request.Since, cancellationToken))
        {
            if (entry.Ranking is not { } ranking || ranking.Surface != request.Surface)
            {
                continue;
            }

            rankings++;
            if (!TryTargets(ranking, request, out var targets))
            {
                skipped++;
                continue;
            }

            if (impressions.Count + ranking.Items.Count > MaxImpressions)
            {
                throw new PolicyEstimateException($"surface '{request.Surface}' has more than {MaxImpressions:N0} impressions since {request.Since:O}; estimate a shorter window (--days).");
            }

            var fold = PositionCtr.Fold(ranking.RequestId);
            for (var i = 0; i < ranking.Items.Count; i++)
            {
                var item = ranking.Items[i];
                if (index.TryAdd((ranking.RequestId, item.ItemId), impressions.Count))
                {
                    impressions.Add(new Impression(item.Propensity, targets[i], ranking.Explored, item.Position, fold));
                }
            }
        }

        if (impressions.Count == 0)
        {
            throw new PolicyEstimateException(rankings == 0
                ? $"the store has no rankings of surface '{request.Surface}' since {request.Since:O}"
                : $"none of the {rankings:N0} rankings of surface '{request.Surface}' can be evaluated under {request.Policy}: {Why(request)}");
        }

        var clicks = await PositionCtr.ClicksAsync(store, request.Since, index, impressions.Count, cancellationToken);

        var rewardModel = PositionCtr.CrossFitted(impressions.Select(i => (i.Fold, i.Position)).ToArray(), clicks);
        var decisions = new LoggedDecision[impressions.Count];
        double explored = 0, unexplored = 0;
        long exploredCount = 0, unexploredCount = 0;
        for (var i = 0; i < decisions.Length; i++)
        {
            var impression = impressions[i];
            var reward = clicks[i] ? 1 : 0;

            // Under the item-position model every policy here fills the same positions, so with a reward model that
            // depends on the position alone the target's expected reward for this slot is the model's value for it.
            var q = rewardModel[i];
            decisions[i] = new LoggedDecision(reward, impression.Propensity, impression.Target, q, q);
            if (impression.Explored)
            {
                (explored, exploredCount) = (explored + reward, exploredCount + 1);
            }
            else
            {
                (unexplored, unexploredCount) = (unexplored + reward, unexploredCount + 1);
            }
        }

        var estimate = OffPolicy.Estimate(decisions, request.Level, request.Resamples);
        return new PolicyEstimateReport(
            request.Surface,
            request.Policy,
            rankings,
            skipped,
            estimate,
            decisions.Average(d => d.Reward),
            exploredCount > 0 ? explored / exploredCount : null,
            exploredCount,
            unexploredCount > 0 ? unexplored / unexploredCount : null,
            unexploredCount);
    }

    /// <summary>The target's probability of each shown (item, position); false when this ranking cannot be evaluated.</summary>
    private static bool TryTargets(RankingLog ranking, PolicyEstimateRequest request, out double[] targets)
    {
        targets = new double[ranking.Items.Count];
        var pool = request.Pool ?? ranking.Exploration?.Pool;
        var epsilon = ranking.Exploration?.Fraction ?? 0;
        for (var i = 0; i < targets.Length; i++)
        {
            var item = ranking.Items[i];
            var position = item.Position - 1;
            switch (request.Policy)
            {
                case TargetPolicy.Uniform when pool is { } n:
                    // Positions past the pool never move: both policies show the same item there.
                    targets[i] = position < n ? 1.0 / n : 1;
                    break;
                case TargetPolicy.Uniform:
                    return false;
                case TargetPolicy.Unexplored when ranking.Exploration is null:
                    targets[i] = 1;
                    break;
                case TargetPolicy.Unexplored when epsilon < 1:
                    var stay = (1 - epsilon) + (epsilon / ranking.Exploration.Pool);
                    targets[i] = position >= ranking.Exploration.Pool || Math.Abs(item.Propensity - stay) < SameTolerance ? 1 : 0;
                    break;
                default:
                    return false;
            }
        }

        return true;
    }

    private static string Why(PolicyEstimateRequest request) => request.Policy == TargetPolicy.Uniform
        ? "the log names no exploration pool; give one (--pool, the number of items the uniform policy draws from)"
        : "they were all explored with ε = 1, where the unexplored list cannot be told from the log";

    private readonly record struct Impression(double Propensity, double Target, bool Explored, int Position, int Fold);
}
