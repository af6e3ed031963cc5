namespace Lasthope.Evaluation;

/// <summary>
/// One logged decision for off-policy estimation: the reward seen (a click: 1 or 0), the probability with which the
/// logging policy took the logged action, the probability with which the target policy would have taken it, and,
/// for the doubly robust estimate, a reward model's prediction for the logged action and its expected reward under
/// the target policy (<c>Σ_a π(a|x) q̂(x, a)</c>).
/// </summary>
public readonly record struct LoggedDecision(double Reward, double LoggingPropensity, double TargetProbability, double ModelReward = 0, double ModelValue = 0);

/// <summary>One estimator's estimate of the target policy's mean reward, with its bootstrap interval.</summary>
/// <param name="Estimator">ips, snips or dr.</param>
/// <param name="Value">The estimate and its percentile bootstrap interval over decisions.</param>
public sealed record OffPolicyEstimate(string Estimator, Interval Value);

/// <summary>The three estimates of one target policy, with the weights' diagnostics.</summary>
/// <param name="Decisions">Logged decisions used.</param>
/// <param name="EffectiveSampleSize">(Σw)² / Σw² of the importance weights w = π/μ (Kish): how many decisions the estimate is really worth; far below <paramref name="Decisions"/>, the estimate rests on a few.</param>
/// <param name="MaxWeight">The largest importance weight.</param>
public sealed record OffPolicyReport(int Decisions, double EffectiveSampleSize, double MaxWeight, OffPolicyEstimate Ips, OffPolicyEstimate SelfNormalizedIps, OffPolicyEstimate DoublyRobust)
{
    /// <summary>The three estimates, in a fixed order.</summary>
    public IReadOnlyList<OffPolicyEstimate> All => [Ips, SelfNormalizedIps, DoublyRobust];
}

/// <summary>Two target policies estimated on the same logged decisions, and the paired difference candidate - baseline.</summary>
/// <param name="Candidate">The candidate's three estimates.</param>
/// <param name="Baseline">The baseline's.</param>
/// <param name="Difference">Candidate minus baseline by each estimator, its interval from the same resamples of decisions.</param>
public sealed record OffPolicyComparison(OffPolicyReport Candidate, OffPolicyReport Baseline, IReadOnlyList<OffPolicyEstimate> Difference)
{
    /// <summary>The doubly robust difference (the last of <see cref="Difference"/>).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public OffPolicyEstimate DoublyRobustDifference => Difference[^1];
}

/// <summary>
/// Off-policy estimates of a target policy's mean reward from a log of another policy's decisions and their
/// propensities: inverse propensity scoring (IPS, Horvitz and Thompson 1952), self-normalised IPS (SNIPS, Swaminathan
/// and Joachims 2015) and doubly robust (DR, Dudík, Langford and Li 2011). With w_i = π(a_i|x_i) / μ(a_i|x_i):
/// IPS = Σ w_i r_i / n; SNIPS = Σ w_i r_i / Σ w_i; DR = Σ (v̂_i + w_i (r_i − q̂_i)) / n. Intervals resample decisions
/// (percentile bootstrap), all three estimators on the same resamples.
/// </summary>
public static class OffPolicy
{
    /// <summary>Estimates the target policy's mean reward.</summary>
    /// <exception cref="ArgumentException">The log is empty, or a decision has a logging propensity outside (0, 1], a target probability outside [0, 1], or a reward or model value that is not finite; the message names the decision.</exception>
    public static OffPolicyReport Estimate(ReadOnlySpan<LoggedDecision> log, double level = 0.95, int resamples = 1000, int seed = 42)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(level, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(level, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(resamples, 1);
        if (log.IsEmpty)
        {
            throw new ArgumentException("The log holds no decisions.", nameof(log));
        }

        var terms = Terms.Of(log);
        var ips = new double[resamples];
        var snips = new double[resamples];
        var dr = new double[resamples];
        var random = new Random(seed);
        var picks = new int[log.Length];
        for (var r = 0; r < resamples; r++)
        {
            Draw(random, picks);
            (ips[r], snips[r], dr[r]) = terms.Means(picks);
        }

        return terms.Report(ips, snips, dr, level);
    }

    /// <summary>
    /// Estimates two target policies on one log (the decisions pairwise the same: reward and logging propensity) and
    /// their difference, each resample of decisions shared by both, so that the difference's interval is paired.
    /// </summary>
    /// <exception cref="ArgumentException">The logs differ in length, or are empty, or a decision is invalid (as for <see cref="Estimate"/>).</exception>
    public static OffPolicyComparison Compare(ReadOnlySpan<LoggedDecision> candidate, ReadOnlySpan<LoggedDecision> baseline, double level = 0.95, int resamples = 1000, int seed = 42)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(level, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(level, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(resamples, 1);
        if (candidate.Length != baseline.Length)
        {
            throw new ArgumentException($"The candidate has {candidate.Length} decisions and the baseline {baseline.Length}; a paired comparison needs the same log.", nameof(baseline));
        }

        if (candidate.IsEmpty)
        {
            throw new ArgumentException("The log holds no decisions.", nameof(candidate));
        }

        var (a, b) = (Terms.Of(candidate), Terms.Of(baseline));
        var resampled = new double[6][];
        for (var k = 0; k < resampled.Length; k++)
        {
            resampled[k] = new double[resamples];
        }

        var difference = new double[3][];
        for (var k = 0; k < difference.Length; k++)
        {
            difference[k] = new double[resamples];
        }

        var random = new Random(seed);
        var picks = new int[candidate.Length];
        for (var r = 0; r < resamples; r++)
        {
            Draw(random, picks);
            var (ai, asn, adr) = a.Means(picks);
            var (bi, bsn, bdr) = b.Means(picks);
            (resampled[0][r], resampled[1][r], resampled[2][r]) = (ai, asn, adr);
            (resampled[3][r], resampled[4][r], resampled[5][r]) = (bi, bsn, bdr);
            (difference[0][r], difference[1][r], difference[2][r]) = (ai - bi, asn - bsn, adr - bdr);
        }

        var (ca, cb) = (a.Report(resampled[0], resampled[1], resampled[2], level), b.Report(resampled[3], resampled[4], resampled[5], level));
        return new OffPolicyComparison(ca, cb,
        [
            new("ips", Percentile(ca.Ips.Value.Estimate - cb.Ips.Value.Estimate, difference[0], level)),
            new("snips", Percentile(ca.SelfNormalizedIps.Value.Estimate - cb.SelfNormalizedIps.Value.Estimate, difference[1], level)),
            new("dr", Percentile(ca.DoublyRobust.Value.Estimate - cb.DoublyRobust.Value.Estimate, difference[2], level)),
        ]);
    }

    private static void Draw(Random random, int[] picks)
    {
        for (var k = 0; k < picks.Length; k++)
        {
            picks[k] = random.Next(picks.Length);
        }
    }

    private static Interval Percentile(double estimate, double[] resampled, double level)
    {
        Array.Sort(resampled);
        var alpha = (1 - level) / 2;
        return new Interval(estimate, Bootstrap.Quantile(resampled, alpha), Bootstrap.Quantile(resampled, 1 - alpha), level);
    }

    /// <summary>Each decision's IPS term w r, weight w and DR term v̂ + w (r - q̂), with their full-log sums.</summary>
    private sealed class Terms
    {
        private double[] _weighted = [], _weights = [], _corrected = [];
        private double _sumW, _sumW2, _sumWR, _sumCorrected, _maxW;

        public static Terms Of(ReadOnlySpan<LoggedDecision> log)
        {
            var n = log.Length;
            var t = new Terms { _weighted = new double[n], _weights = new double[n], _corrected = new double[n] };
            for (var i = 0; i < n; i++)
            {
                var d = log[i];
                if (!(d.LoggingPropensity > 0 && d.LoggingPropensity <= 1))
                {
                    throw new ArgumentException($"Decision {i}: the logging propensity {d.LoggingPropensity} is not in (0, 1].", nameof(log));
                }

                if (!(d.TargetProbability >= 0 && d.TargetProbability <= 1))
                {
                    throw new ArgumentException($"Decision {i}: the target probability {d.TargetProbability} is not in [0, 1].", nameof(log));
                }

                if (!double.IsFinite(d.Reward) || !double.IsFinite(d.ModelReward) || !double.IsFinite(d.ModelValue))
                {
                    throw new ArgumentException($"Decision {i}: the reward and the model's values must be finite.", nameof(log));
                }

                var w = d.TargetProbability / d.LoggingPropensity;
                t._weights[i] = w;
                t._weighted[i] = w * d.Reward;
                t._corrected[i] = d.ModelValue + (w * (d.Reward - d.ModelReward));
                t._sumW += w;
                t._sumW2 += w * w;
                t._sumWR += t._weighted[i];
                t._sumCorrected += t._corrected[i];
                t._maxW = Math.Max(t._maxW, w);
            }

            return t;
        }

        /// <summary>IPS, SNIPS and DR over the picked decisions (a resample).</summary>
        public (double Ips, double Snips, double Dr) Means(int[] picks)
        {
            double a = 0, b = 0, c = 0;
            foreach (var i in picks)
            {
                a += _weighted[i];
                b += _weights[i];
                c += _corrected[i];
            }

            var n = picks.Length;
            return (a / n, b > 0 ? a / b : 0, c / n);
        }

        public OffPolicyReport Report(double[] ips, double[] snips, double[] dr, double level)
        {
            var n = _weights.Length;
            var ess = _sumW2 > 0 ? _sumW * _sumW / _sumW2 : 0;
            return new OffPolicyReport(
                n,
                ess,
                _maxW,
                new("ips", Percentile(_sumWR / n, ips, level)),
                new("snips", Percentile(_sumW > 0 ? _sumWR / _sumW : 0, snips, level)),
                new("dr", Percentile(_sumCorrected / n, dr, level)));
        }
    }
}
