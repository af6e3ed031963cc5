using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Lasthope.Core.Selection;

namespace Lasthope.Counters;

/// <summary>Coefficients of the last-hope score (section <c>Lasthope:Heuristic</c>).</summary>
public sealed class HeuristicOptions : IValidatableObject
{
    /// <summary>a_week: weight of the 7-day CTR. Default 1.</summary>
    public double WeekWeight { get; init; } = 1.0;

    /// <summary>a_trend: weight of the trend (newer half minus older half of the week). Default 0.5.</summary>
    public double TrendWeight { get; init; } = 0.5;

    /// <summary>a_month: weight of the 30-day CTR; small, a tie-breaker with memory. Default 0.1.</summary>
    public double MonthWeight { get; init; } = 0.1;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!double.IsFinite(WeekWeight) || !double.IsFinite(TrendWeight) || !double.IsFinite(MonthWeight))
        {
            yield return new ValidationResult("Heuristic weights must be finite numbers.", [nameof(WeekWeight)]);
            yield break;
        }
    }
}

/// <summary>What the heuristic met while scoring a list.</summary>
/// <param name="UnknownItems">Candidates with no data at all, scored from the prior.</param>
/// <param name="CountersEmpty">No impressions at all in the long window: every score is the prior.</param>
public readonly record struct HeuristicSummary(int UnknownItems, bool CountersEmpty);

/// <summary>
/// The last-hope ranker: score = a_week · CTR_7d + a_trend · trend + a_month · CTR_30d for the user's segment, from the
/// in-memory counters. It never fails for want of data: an unknown item scores from the prior, an unknown user from
/// the items' overall rates, empty counters give every item the same prior score and the order falls back to the
/// deterministic tie-break (item id, ordinal). It allocates nothing per call.
/// </summary>
public sealed class LastHopeRanker
{
    private readonly CtrCounters _counters;
    private readonly HeuristicOptions _options;

    public LastHopeRanker(CtrCounters counters, HeuristicOptions options)
    {
        ArgumentNullException.ThrowIfNull(counters);
        ArgumentNullException.ThrowIfNull(options);
        HeuristicOptionsValidator.ThrowIfInvalid(options);
        _counters = counters;
        _options = options;
        var c = counters.Options;
        Version = string.Create(
            CultureInfo.InvariantCulture,
            $"ctr-v1(week={options.WeekWeight},trend={options.TrendWeight},month={options.MonthWeight},prior={c.PriorStrength},debias={(c.PositionDebiasing ? "on" : "off")})");
    }

    /// <summary>Names the formula and its coefficients; logged with every ranking it serves.</summary>
    public string Version { get; }

    public CtrCounters Counters => _counters;

    public HeuristicOptions Options => _options;

    /// <summary>The score of one estimate.</summary>
    public double Score(in CtrEstimate estimate)
        => (_options.WeekWeight * estimate.Ctr7d) + (_options.TrendWeight * estimate.Trend) + (_options.MonthWeight * estimate.Ctr30d);

    /// <summary>
    /// Scores <paramref name="candidates"/> for <paramref name="segment"/> into <paramref name="scores"/> (and, when
    /// not empty, their estimates into <paramref name="estimates"/>), index for index.
    /// </summary>
    public HeuristicSummary Score(string segment, ReadOnlySpan<string> candidates, Span<double> scores, Span<CtrEstimate> estimates = default)
    {
        if (scores.Length < candidates.Length || (!estimates.IsEmpty && estimates.Length < candidates.Length))
        {
            throw new ArgumentException("Output spans are shorter than the candidate list.", nameof(scores));
        }

        var context = _counters.BeginEstimation(segment);
        var unknown = 0;
        for (var i = 0; i < candidates.Length; i++)
        {
            var estimate = _counters.Estimate(context, candidates[i]);
            if (estimate.Level == EstimateLevel.Prior)
            {
                unknown++;
            }

            scores[i] = Score(estimate);
            if (!estimates.IsEmpty)
            {
                estimates[i] = estimate;
            }
        }

        return new HeuristicSummary(unknown, context.CountersEmpty);
    }

    /// <summary>
    /// Fills <paramref name="order"/> with the indices 0..n-1 sorted best first: by score descending, ties broken by
    /// item id (ordinal ascending), so equal inputs always give the same order.
    /// </summary>
    public static void Order(string[] ids, double[] scores, Span<int> order) => Order(ids, scores, order, order.Length);

    /// <summary>
    /// Like <see cref="Order(string[], double[], Span{int})"/>, but only the first <paramref name="top"/> positions are
    /// sorted: they hold exactly the best <paramref name="top"/> items in order, and the rest follow in no particular
    /// order. A ranking that serves 10 items, or re-ranks the top 300, needs no more (<see cref="TopK.Partial"/>).
    /// </summary>
    public static void Order(string[] ids, double[] scores, Span<int> order, int top)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(scores);
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        var comparer = new ScoreOrder(ids, scores);
        if (top >= order.Length)
        {
            order.Sort(comparer);
            return;
        }

        TopK.Partial(order, top, comparer);
    }

    /// <summary>Descending score, then ordinal id: a total order on distinct ids.</summary>
    public readonly struct ScoreOrder(string[] ids, double[] scores) : IComparer<int>
    {
        public int Compare(int x, int y)
        {
            var byScore = scores[y].CompareTo(scores[x]);
            return byScore != 0 ? byScore : string.CompareOrdinal(ids[x], ids[y]);
        }
    }
}
