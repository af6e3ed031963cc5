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

        var n = log.Length;
        var weighted = new double[n];
        var weights = new double[n];
        var corrected = new double[n];
        double sumW = 0, sumW2 = 0, sumWR = 0, sumCorrected = 0, maxW = 0;
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
            weights[i] = w;
            weighted[i] = w * d.Reward;
            corrected[i] = d.ModelValue + (w * (d.Reward - d.ModelReward));
            sumW += w;
            sumW2 += w * w;
            sumWR += weighted[i];
            sumCorrected += corrected[i];
            maxW = Math.Max(maxW, w);
        }

        var ips = new double[resamples];
        var snips = new double[resamples];
        var dr = new double[resamples];
        var random = new Random(seed);
        for (var r = 0; r < resamples; r++)
        {
            double a = 0, b = 0, c = 0;
            for (var k = 0; k < n; k++)
            {
                var i = random.Next(n);
                a += weighted[i];
                b += weights[i];
                c += corrected[i];
            }

            ips[r] = a / n;
            snips[r] = b > 0 ? a / b : 0;
            dr[r] = c / n;
        }

        var ess = sumW2 > 0 ? sumW * sumW / sumW2 : 0;
        return new OffPolicyReport(
            n,
            ess,
            maxW,
            new("ips", Percentile(sumWR / n, ips, level)),
            new("snips", Percentile(sumW > 0 ? sumWR / sumW : 0, snips, level)),
            new("dr", Percentile(sumCorrected / n, dr, level)));
    }

    private static Interval Percentile(double estimate, double[] resampled, double level)
    {
        Array.Sort(resampled);
        var alpha = (1 - level) / 2;
        return new Interval(estimate, Bootstrap.Quantile(resampled, alpha), Bootstrap.Quantile(resampled, 1 - alpha), level);
    }
}
