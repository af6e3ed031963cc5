namespace Lasthope.Counters;

/// <summary>
/// Estimates the position-bias curve from a click log under the position-based model: P(click) = θ_item · b_position.
/// With impressions n_ip and clicks c_ip per (item, position), the maximum-likelihood fixed point under a Poisson
/// approximation alternates
/// <code>
///   θ_i = Σ_p c_ip / Σ_p n_ip b_p          b_p = Σ_i c_ip / Σ_i n_ip θ_i          then b ← b / b_1
/// </code>
/// (the alternating updates of a rank-one Poisson factorisation; compare the regression-EM of Wang et al., WSDM 2018).
/// Conditioning on the item removes the bias that a ranked log has (good items sit at good positions). On a log with
/// uniformly random placement, such as Open Bandit's "random" policy, it agrees with the direct per-position CTR
/// ratio CTR_p / CTR_1 up to sampling noise.
/// </summary>
public sealed class PositionBiasEstimator
{
    private readonly int _maxPosition;
    private readonly Dictionary<string, double[]> _impressions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double[]> _clicks = new(StringComparer.Ordinal);

    /// <param name="maxPosition">Positions past this one are pooled with it.</param>
    public PositionBiasEstimator(int maxPosition)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPosition, 1);
        _maxPosition = maxPosition;
    }

    /// <summary>Impressions per position (pooled over items), index 0 = position 1.</summary>
    public double[] ImpressionsByPosition => Pool(_impressions);

    /// <summary>Clicks per position (pooled over items), index 0 = position 1.</summary>
    public double[] ClicksByPosition => Pool(_clicks);

    public void AddImpression(string itemId, int position, double count = 1) => Row(_impressions, itemId)[Index(position)] += count;

    public void AddClick(string itemId, int position, double weight = 1) => Row(_clicks, itemId)[Index(position)] += weight;

    /// <summary>
    /// The direct estimate CTR_p / CTR_1 from pooled counts, unbiased only under random placement. Null when position 1
    /// has no clicks.
    /// </summary>
    public PositionCurve? DirectRatio()
    {
        var n = ImpressionsByPosition;
        var c = ClicksByPosition;
        var last = LastObserved(n);
        if (last < 0 || n[0] <= 0 || c[0] <= 0)
        {
            return null;
        }

        var ctr1 = c[0] / n[0];
        var values = new double[last + 1];
        for (var p = 0; p <= last; p++)
        {
            values[p] = n[p] > 0 && c[p] > 0 ? c[p] / n[p] / ctr1 : (p > 0 ? values[p - 1] : 1);
        }

        return new PositionCurve(values);
    }

    /// <summary>
    /// Runs the alternating updates until the curve moves less than <paramref name="tolerance"/>, or
    /// <paramref name="maxIterations"/>. Returns null when there are no clicks at position 1 (nothing to anchor on).
    /// Positions with no clicks inherit the value of the position before them.
    /// </summary>
    public PositionCurve? Estimate(int maxIterations = 200, double tolerance = 1e-10)
    {
        var n = ImpressionsByPosition;
        var last = LastObserved(n);
        if (last < 0)
        {
            return null;
        }

        var positions = last + 1;
        var items = _impressions.Keys.ToArray();
        var b = new double[positions];
        Array.Fill(b, 1.0);
        var theta = new double[items.Length];
        var next = new double[positions];
        for (var iteration = 0; iteration < maxIterations; iteration++)
        {
            for (var i = 0; i < items.Length; i++)
            {
                var ni = _impressions[items[i]];
                var ci = _clicks.GetValueOrDefault(items[i]);
                double clicks = 0, exposure = 0;
                for (var p = 0; p < positions; p++)
                {
                    clicks += ci?[p] ?? 0;
                    exposure += ni[p] * b[p];
                }

                theta[i] = exposure > 0 ? clicks / exposure : 0;
            }

            Array.Clear(next);
            var expected = new double[positions];
            for (var i = 0; i < items.Length; i++)
            {
                var ni = _impressions[items[i]];
                var ci = _clicks.GetValueOrDefault(items[i]);
                for (var p = 0; p < positions; p++)
                {
                    next[p] += ci?[p] ?? 0;
                    expected[p] += ni[p] * theta[i];
                }
            }

            for (var p = 0; p < positions; p++)
            {
                next[p] = expected[p] > 0 && next[p] > 0 ? next[p] / expected[p] : double.NaN;
            }

            if (!(next[0] > 0))
            {
                return null;
            }

            var change = 0.0;
            var anchor = next[0];
            for (var p = 0; p < positions; p++)
            {
                var value = double.IsNaN(next[p]) ? (p > 0 ? b[p - 1] : 1) : next[p] / anchor;
                change = Math.Max(change, Math.Abs(value - b[p]));
                b[p] = value;
            }

            if (change < tolerance)
            {
                break;
            }
        }

        return new PositionCurve(b);
    }

    private int Index(int position)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(position, 1);
        return Math.Min(position, _maxPosition) - 1;
    }

    private double[] Row(Dictionary<string, double[]> table, string itemId)
    {
        if (!table.TryGetValue(itemId, out var row))
        {
            row = new double[_maxPosition];
            table[itemId] = row;
            if (!_impressions.ContainsKey(itemId))
            {
                _impressions[itemId] = new double[_maxPosition];
            }
        }

        return row;
    }

    private double[] Pool(Dictionary<string, double[]> table)
    {
        var pooled = new double[_maxPosition];
        foreach (var row in table.Values)
        {
            for (var p = 0; p < pooled.Length; p++)
            {
                pooled[p] += row[p];
            }
        }

        return pooled;
    }

    private static int LastObserved(double[] impressions)
    {
        for (var p = impressions.Length - 1; p >= 0; p--)
        {
            if (impressions[p] > 0)
            {
                return p;
            }
        }

        return -1;
    }
}
