namespace Lasthope.Evaluation;

/// <summary>One user's totals in one arm: impressions (trials) and clicks (successes).</summary>
public readonly record struct UserTotals(double Trials, double Successes);

/// <summary>A sample-ratio-mismatch test: Pearson's chi-square of the users per arm against the configured shares.</summary>
/// <param name="ChiSquare">Σ (observed − expected)² / expected over arms.</param>
/// <param name="DegreesOfFreedom">Arms − 1.</param>
/// <param name="PValue">P(χ² ≥ ChiSquare) under the configured shares.</param>
/// <param name="Alarm">Whether <paramref name="PValue"/> is below the alarm threshold.</param>
public sealed record SampleRatioTest(double ChiSquare, int DegreesOfFreedom, double PValue, bool Alarm);

/// <summary>
/// The statistics of an experiment readout. A click-through rate is a ratio of sums over users, and a user's
/// requests are not independent, so its variance is the delta method's over users (Deng, Knoblich and Lu 2018,
/// "Applying the Delta Method in Metric Analytics"), not the binomial one over impressions, which is too narrow.
/// </summary>
public static class ExperimentStatistics
{
    /// <summary>The alarm threshold of the sample-ratio test: p &lt; 0.0005 (Fabijan et al. 2019, "Diagnosing Sample Ratio Mismatch in Online Controlled Experiments").</summary>
    public const double SampleRatioAlarm = 0.0005;

    /// <summary>Σ successes / Σ trials with its normal interval, clustered by user.</summary>
    public static Interval Ratio(ReadOnlySpan<UserTotals> users, double level = 0.95)
    {
        var (ratio, variance) = RatioAndVariance(users);
        return Normal(ratio, variance, level);
    }

    /// <summary>The difference of two arms' ratios (treatment − control; arms are independent samples of users), with its normal interval.</summary>
    public static Interval RatioDifference(ReadOnlySpan<UserTotals> treatment, ReadOnlySpan<UserTotals> control, double level = 0.95)
    {
        var (t, vt) = RatioAndVariance(treatment);
        var (c, vc) = RatioAndVariance(control);
        return Normal(t - c, vt + vc, level);
    }

    /// <summary>Tests the users per arm against the arms' configured shares (which are normalised to sum to 1).</summary>
    /// <exception cref="ArgumentException">Fewer than two arms, counts and shares of different lengths, a negative count or a share that is not positive.</exception>
    public static SampleRatioTest SampleRatio(IReadOnlyList<long> users, IReadOnlyList<double> shares, double alarmBelow = SampleRatioAlarm)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(shares);
        if (users.Count < 2 || users.Count != shares.Count)
        {
            throw new ArgumentException($"A sample-ratio test needs two or more arms with one share each ({users.Count} counts, {shares.Count} shares).", nameof(shares));
        }

        if (users.Any(u => u < 0) || shares.Any(s => !(s > 0) || !double.IsFinite(s)))
        {
            throw new ArgumentException("User counts must not be negative and shares must be positive.", nameof(shares));
        }

        double total = users.Sum();
        var shareSum = shares.Sum();
        var chi = 0.0;
        for (var a = 0; a < users.Count; a++)
        {
            var expected = total * shares[a] / shareSum;
            if (expected > 0)
            {
                chi += (users[a] - expected) * (users[a] - expected) / expected;
            }
        }

        var df = users.Count - 1;
        var p = total > 0 ? ChiSquareSurvival(chi, df) : 1;
        return new SampleRatioTest(chi, df, p, p < alarmBelow);
    }

    /// <summary>P(X ≥ x) for X ~ χ²(df): the regularised upper incomplete gamma Q(df/2, x/2).</summary>
    public static double ChiSquareSurvival(double x, int degreesOfFreedom)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(degreesOfFreedom, 1);
        return x <= 0 ? 1 : UpperGamma(degreesOfFreedom / 2.0, x / 2);
    }

    private static (double Ratio, double Variance) RatioAndVariance(ReadOnlySpan<UserTotals> users)
    {
        var n = users.Length;
        double trials = 0, successes = 0;
        foreach (var u in users)
        {
            trials += u.Trials;
            successes += u.Successes;
        }

        if (n < 2 || trials <= 0)
        {
            return (trials > 0 ? successes / trials : double.NaN, double.NaN);
        }

        // Var(R) ≈ Var(x - R y) / (n ȳ²), the sample variance of the per-user residuals of the ratio.
        var ratio = successes / trials;
        var meanTrials = trials / n;
        var sum = 0.0;
        foreach (var u in users)
        {
            var e = u.Successes - (ratio * u.Trials);
            sum += e * e;
        }

        return (ratio, sum / (n - 1) / (n * meanTrials * meanTrials));
    }

    private static Interval Normal(double estimate, double variance, double level)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(level, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(level, 1);
        var half = Bootstrap.NormalQuantile(0.5 + (level / 2)) * Math.Sqrt(variance);
        return new Interval(estimate, estimate - half, estimate + half, level);
    }

    /// <summary>Q(a, x) by its series below a + 1 and its continued fraction above (Press et al., Numerical Recipes, 3rd ed., §6.2).</summary>
    private static double UpperGamma(double a, double x)
    {
        var logPrefix = (a * Math.Log(x)) - x - LogGamma(a);
        if (x < a + 1)
        {
            double term = 1 / a, sum = term;
            for (var k = 1; k < 10_000 && Math.Abs(term) > Math.Abs(sum) * 1e-16; k++)
            {
                term *= x / (a + k);
                sum += term;
            }

            return Math.Max(0, 1 - (sum * Math.Exp(logPrefix)));
        }

        // Modified Lentz for the continued fraction of Γ(a, x).
        const double Tiny = 1e-300;
        var b = x + 1 - a;
        var c = 1 / Tiny;
        var d = 1 / b;
        var h = d;
        for (var i = 1; i < 10_000; i++)
        {
            var an = -i * (i - a);
            b += 2;
            d = (an * d) + b;
            d = Math.Abs(d) < Tiny ? Tiny : d;
            c = b + (an / c);
            c = Math.Abs(c) < Tiny ? Tiny : c;
            d = 1 / d;
            var delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-16)
            {
                break;
            }
        }

        return Math.Exp(logPrefix) * h;
    }

    /// <summary>ln Γ(a) for a &gt; 0 by Lanczos' approximation (g = 7, nine coefficients; relative error about 1e-15).</summary>
    private static double LogGamma(double a)
    {
        ReadOnlySpan<double> c =
        [
            0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
            12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
        ];
        if (a < 0.5)
        {
            // Reflection: Γ(a) Γ(1 − a) = π / sin(πa).
            return Math.Log(Math.PI / Math.Sin(Math.PI * a)) - LogGamma(1 - a);
        }

        a -= 1;
        var sum = c[0];
        for (var i = 1; i < c.Length; i++)
        {
            sum += c[i] / (a + i);
        }

        var t = a + 7.5;
        return (0.5 * Math.Log(2 * Math.PI)) + ((a + 0.5) * Math.Log(t)) - t + Math.Log(sum);
    }
}
