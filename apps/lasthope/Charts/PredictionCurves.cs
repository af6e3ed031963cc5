namespace Lasthope.Cli.Charts;

/// <summary>A ROC curve: one point per distinct score (from the highest down) after the origin, and its area.</summary>
/// <param name="FalsePositiveRates">From 0 to 1, non-decreasing.</param>
/// <param name="TruePositiveRates">From 0 to 1, non-decreasing, one per false-positive rate.</param>
/// <param name="Auc">The area under the curve; NaN when the labels hold only one class.</param>
internal sealed record RocCurve(double[] FalsePositiveRates, double[] TruePositiveRates, double Auc);

/// <summary>Rows whose scores lie in [<paramref name="Low"/>, <paramref name="High"/>], with the sums of their scores and labels.</summary>
internal sealed record ScoreBand(double Low, double High, int Rows, double ScoreSum, double LabelSum)
{
    public double MeanScore => ScoreSum / Rows;

    /// <summary>The mean label: the observed rate for 0/1 labels, the mean actual value for a regression.</summary>
    public double MeanLabel => LabelSum / Rows;
}

/// <summary>One bin of a calibration curve: the mean predicted probability and the observed rate of its rows.</summary>
internal sealed record CalibrationBin(double MeanPredicted, double ObservedRate, int Rows);

/// <summary>
/// The pure computations behind <see cref="PredictionHtml"/>: ROC and AUC, equal-count bands, calibration bins,
/// histograms, a deterministic subsample. Scores and labels must be finite and of one length (the page filters
/// missing values before it calls these); binary labels are 0 or 1, a label above 0.5 counting as positive.
/// </summary>
internal static class PredictionCurves
{
    /// <summary>
    /// The ROC curve of <paramref name="scores"/> against 0/1 <paramref name="labels"/>. Rows of equal score move the
    /// curve together, in one diagonal step, so the area by the trapezoid rule counts a tied positive-negative pair
    /// as half a correct ordering: it equals the Mann-Whitney statistic U / (P N) (Fawcett 2006, "An introduction to
    /// ROC analysis", algorithm 2 and section 8). O(n log n).
    /// </summary>
    public static RocCurve Roc(ReadOnlySpan<double> scores, ReadOnlySpan<double> labels)
    {
        CheckLengths(scores, labels);
        var keys = scores.ToArray();
        var positive = labels.ToArray();
        Array.Sort(keys, positive);
        double positives = 0;
        foreach (var label in positive)
        {
            positives += label > 0.5 ? 1 : 0;
        }

        var negatives = keys.Length - positives;
        if (positives == 0 || negatives == 0)
        {
            return new RocCurve([0, 1], [0, 1], double.NaN);
        }

        var fpr = new List<double> { 0 };
        var tpr = new List<double> { 0 };
        double tp = 0, fp = 0, area = 0;
        for (var i = keys.Length - 1; i >= 0;)
        {
            var score = keys[i];
            double groupTp = 0, groupFp = 0;
            for (; i >= 0 && keys[i] == score; i--)
            {
                if (positive[i] > 0.5)
                {
                    groupTp++;
                }
                else
                {
                    groupFp++;
                }
            }

            // The trapezoid under this step, in pair counts: each new negative is out-ranked by the positives
            // above it (tp) and ties with half of the group's positives.
            area += groupFp * (tp + groupTp / 2);
            tp += groupTp;
            fp += groupFp;
            fpr.Add(fp / negatives);
            tpr.Add(tp / positives);
        }

        return new RocCurve([.. fpr], [.. tpr], area / (positives * negatives));
    }

    /// <summary>
    /// Splits the rows into <paramref name="count"/> bands of (nearly) equal size by ascending score, the sizes
    /// differing by at most one, except that rows of equal score always share a band: a tie across a boundary moves
    /// the boundary up to the tie's end, so a band can be larger and there can be fewer than <paramref name="count"/>
    /// bands (one, when every score is equal). The bands partition the rows, lowest scores first.
    /// <paramref name="labels"/> may be empty (then every <see cref="ScoreBand.LabelSum"/> is 0).
    /// </summary>
    public static IReadOnlyList<ScoreBand> EqualCountBands(ReadOnlySpan<double> scores, ReadOnlySpan<double> labels, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (!labels.IsEmpty)
        {
            CheckLengths(scores, labels);
        }

        var keys = scores.ToArray();
        var values = labels.IsEmpty ? null : labels.ToArray();
        if (values is null)
        {
            Array.Sort(keys);
        }
        else
        {
            Array.Sort(keys, values);
        }

        var n = keys.Length;
        var bands = new List<ScoreBand>(count);
        var start = 0;
        for (var b = 1; b <= count && start < n; b++)
        {
            var end = (int)((long)n * b / count);
            if (end <= start)
            {
                continue;
            }

            while (end < n && keys[end] == keys[end - 1])
            {
                end++;
            }

            double scoreSum = 0, labelSum = 0;
            for (var i = start; i < end; i++)
            {
                scoreSum += keys[i];
                labelSum += values is null ? 0 : values[i];
            }

            bands.Add(new ScoreBand(keys[start], keys[end - 1], end - start, scoreSum, labelSum));
            start = end;
        }

        return bands;
    }

    /// <summary>
    /// The reliability diagram's points: <see cref="EqualCountBands"/> of the predicted probabilities, each band's
    /// mean prediction against its observed rate of positives, lowest first. A calibrated model lies on the diagonal.
    /// </summary>
    public static IReadOnlyList<CalibrationBin> CalibrationBins(ReadOnlySpan<double> scores, ReadOnlySpan<double> labels, int count = 10)
    {
        CheckLengths(scores, labels);
        var bins = new List<CalibrationBin>(count);
        foreach (var band in EqualCountBands(scores, labels, count))
        {
            bins.Add(new CalibrationBin(band.MeanScore, band.MeanLabel, band.Rows));
        }

        return bins;
    }

    /// <summary>
    /// Counts of <paramref name="values"/> in <paramref name="bins"/> equal bins of [<paramref name="low"/>,
    /// <paramref name="high"/>]; values outside count in the edge bins, and <paramref name="high"/> itself in the last.
    /// </summary>
    public static long[] Histogram(ReadOnlySpan<double> values, int bins, double low, double high)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        if (!(high > low))
        {
            throw new ArgumentException($"The histogram needs high > low, not [{low}, {high}].", nameof(high));
        }

        var counts = new long[bins];
        var scale = bins / (high - low);
        foreach (var value in values)
        {
            var bin = (int)Math.Floor((value - low) * scale);
            counts[Math.Clamp(bin, 0, bins - 1)]++;
        }

        return counts;
    }

    /// <summary>
    /// <paramref name="take"/> distinct row indices out of <paramref name="rows"/>, ascending, chosen uniformly at
    /// random with a fixed <paramref name="seed"/> (Knuth's selection sampling, TAOCP vol. 2, 3.4.2, algorithm S):
    /// the same input draws the same points, and a file sorted by some column is not thinned by a stride.
    /// Every row when <paramref name="rows"/> is at most <paramref name="take"/>.
    /// </summary>
    public static int[] Sample(int rows, int take, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(take);
        if (rows <= take)
        {
            return [.. Enumerable.Range(0, rows)];
        }

        var random = new Random(seed);
        var chosen = new int[take];
        var found = 0;
        for (var i = 0; i < rows && found < take; i++)
        {
            // Choose row i with probability (still needed) / (still left).
            if (random.NextDouble() * (rows - i) < take - found)
            {
                chosen[found++] = i;
            }
        }

        return chosen;
    }

    /// <summary>
    /// Whether a log scale suits these values: all of them positive and the largest more than 100 times the
    /// smallest (more than two decades). False for no values.
    /// </summary>
    public static bool SpansDecades(params ReadOnlySpan<double[]> series)
    {
        var min = double.PositiveInfinity;
        var max = double.NegativeInfinity;
        foreach (var values in series)
        {
            foreach (var value in values)
            {
                if (!(value > 0))
                {
                    return false;
                }

                min = Math.Min(min, value);
                max = Math.Max(max, value);
            }
        }

        return max > 100 * min;
    }

    private static void CheckLengths(ReadOnlySpan<double> scores, ReadOnlySpan<double> labels)
    {
        if (scores.Length != labels.Length)
        {
            throw new ArgumentException($"{scores.Length} scores but {labels.Length} labels.", nameof(labels));
        }
    }
}
