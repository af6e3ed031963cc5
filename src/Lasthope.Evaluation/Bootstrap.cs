namespace Lasthope.Evaluation;

/// <summary>A point estimate with a two-sided confidence interval.</summary>
/// <param name="Estimate">The statistic on the full sample.</param>
/// <param name="Lower">Lower bound of the interval.</param>
/// <param name="Upper">Upper bound of the interval.</param>
/// <param name="Level">The interval's confidence level, for example 0.95.</param>
/// <remarks>
/// There is deliberately no "lies above another interval" test: two recommenders or models measured on the same
/// users are compared by the paired interval of their difference (<see cref="Bootstrap.MeanDifferenceInterval"/>,
/// <see cref="MetricComparison.ModelAboveBaseline"/>); separate intervals overlap even when every paired resample puts
/// one ahead, and that rule (the old <c>IsAbove</c>) called such differences unshown.
/// </remarks>
public readonly record struct Interval(double Estimate, double Lower, double Upper, double Level)
{
    public override string ToString() => $"{Estimate:F4} [{Lower:F4}, {Upper:F4}]";
}

/// <summary>
/// Nonparametric percentile bootstrap (Efron and Tibshirani 1993, ch. 13) for the mean of per-unit values, where a
/// unit is a user or a query. Resampling units, not interactions, respects that a user's hits are correlated.
/// </summary>
public static class Bootstrap
{
    /// <summary>Percentile interval for the mean of <paramref name="values"/>.</summary>
    /// <param name="values">One value per unit (per user, per query).</param>
    /// <param name="level">Confidence level, in (0, 1).</param>
    /// <param name="resamples">Number of bootstrap resamples.</param>
    /// <param name="seed">Seed of the resampling; the same seed gives the same interval.</param>
    public static Interval MeanInterval(ReadOnlySpan<double> values, double level = 0.95, int resamples = 1000, int seed = 42)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(level, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(level, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(resamples, 1);
        var n = values.Length;
        if (n == 0)
        {
            return new Interval(double.NaN, double.NaN, double.NaN, level);
        }

        var mean = Mean(values);
        var random = new Random(seed);
        var means = new double[resamples];
        for (var r = 0; r < resamples; r++)
        {
            var sum = 0.0;
            for (var i = 0; i < n; i++)
            {
                sum += values[random.Next(n)];
            }

            means[r] = sum / n;
        }

        Array.Sort(means);
        var alpha = (1 - level) / 2;
        return new Interval(mean, Quantile(means, alpha), Quantile(means, 1 - alpha), level);
    }

    /// <summary>
    /// Paired percentile interval for the mean difference a - b over the same units (same users, same queries), the
    /// right comparison of a model with its baseline on one test set.
    /// </summary>
    public static Interval MeanDifferenceInterval(ReadOnlySpan<double> a, ReadOnlySpan<double> b, double level = 0.95, int resamples = 1000, int seed = 42)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"Paired samples differ in length: {a.Length} and {b.Length}.", nameof(b));
        }

        var diff = new double[a.Length];
        for (var i = 0; i < diff.Length; i++)
        {
            diff[i] = a[i] - b[i];
        }

        return MeanInterval(diff, level, resamples, seed);
    }

    /// <summary>
    /// The standard normal quantile Φ^-1(p) for p in (0, 1), by P. J. Acklam's rational approximation (relative error
    /// below 1.15e-9): 1.959964 for p = 0.975.
    /// </summary>
    public static double NormalQuantile(double p)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(p, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(p, 1);
        ReadOnlySpan<double> a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
        ReadOnlySpan<double> b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        ReadOnlySpan<double> c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
        ReadOnlySpan<double> d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        const double Low = 0.02425;
        double x;
        if (p < Low)
        {
            var q = Math.Sqrt(-2 * Math.Log(p));
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        else if (p <= 1 - Low)
        {
            var q = p - 0.5;
            var r = q * q;
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
        }
        else
        {
            var q = Math.Sqrt(-2 * Math.Log(1 - p));
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }

        return x;
    }

    private static double Mean(ReadOnlySpan<double> values)
    {
        var sum = 0.0;
        foreach (var v in values)
        {
            sum += v;
        }

        return sum / values.Length;
    }

    /// <summary>Linear interpolation between order statistics (type 7 of Hyndman and Fan 1996).</summary>
    internal static double Quantile(double[] sorted, double p)
    {
        var h = (sorted.Length - 1) * p;
        var lo = (int)Math.Floor(h);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + ((h - lo) * (sorted[hi] - sorted[lo]));
    }
}
