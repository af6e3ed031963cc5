namespace Lasthope.Text.Barometer;

/// <summary>
/// One text's date and how much of it counts positive and negative. From a label, exactly one of
/// <see cref="Positive"/> and <see cref="Negative"/> is 1 (or neither, for a neutral text); from probabilities under
/// <see cref="PolarityRule.Expected"/>, they are P(positive classes) and P(negative classes). Either way
/// <see cref="Polarity"/> = Positive - Negative lies in [-1, 1], and the mean polarity of a period's texts is its
/// positive share minus its negative share.
/// </summary>
/// <param name="Date">The calendar day of the text (as written in the data, no time zone).</param>
/// <param name="Positive">In [0, 1]: 1 for a positive label, else 0; or P(positive).</param>
/// <param name="Negative">In [0, 1], at most 1 - <paramref name="Positive"/>: 1 for a negative label, else 0; or P(negative).</param>
public readonly record struct BarometerRow(DateOnly Date, double Positive, double Negative)
{
    /// <summary>Positive - Negative: +1, -1 or 0 for a label; the expected polarity for probabilities.</summary>
    public double Polarity => Positive - Negative;

    /// <summary>A labelled text: <paramref name="polarity"/> is +1, -1 or 0.</summary>
    public static BarometerRow Labelled(DateOnly date, int polarity) => polarity switch
    {
        1 => new BarometerRow(date, 1, 0),
        -1 => new BarometerRow(date, 0, 1),
        0 => new BarometerRow(date, 0, 0),
        _ => throw new ArgumentOutOfRangeException(nameof(polarity), polarity, "A label's polarity is +1, -1 or 0."),
    };
}

/// <summary>How a text's class probabilities become its polarity.</summary>
public enum PolarityRule
{
    /// <summary>
    /// The most likely class (the first in class order on a tie) gives +1, -1 or 0: the barometer counts texts, and the
    /// index is the share of texts labelled positive minus the share labelled negative. The default: it is what a
    /// reader expects of "the share of positive texts", and a hard label is what a labelled sample is compared with.
    /// </summary>
    MostLikely,

    /// <summary>
    /// The expected polarity P(positive) - P(negative), summing the probabilities of the classes of each side: the
    /// index is the mean expected share of positive minus negative texts. It uses the model's doubt (a text at 0.4/0.35/
    /// 0.25 counts +0.05, not +1), so it moves less on borderline texts; it is only as good as the model's calibration.
    /// </summary>
    Expected,
}

/// <summary>
/// Builds the barometer's rows from what the text model said about each text: its labels, or its class probabilities
/// under a <see cref="PolarityRule"/>, mapped to polarities by a <see cref="PolarityMapping"/>.
/// </summary>
public static class BarometerInput
{
    /// <summary>
    /// Rows from class labels: <paramref name="labels"/>[i] is text i's class, dated <paramref name="dates"/>[i]. Throws
    /// <see cref="ArgumentException"/> for lists of different lengths or a label the mapping does not know (naming the
    /// row, 0-based).
    /// </summary>
    public static BarometerRow[] FromLabels(IReadOnlyList<DateOnly> dates, IReadOnlyList<string> labels, PolarityMapping mapping)
    {
        ArgumentNullException.ThrowIfNull(dates);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(mapping);
        SameLength(dates.Count, labels.Count, nameof(labels));
        var rows = new BarometerRow[dates.Count];
        for (var i = 0; i < rows.Length; i++)
        {
            var polarity = mapping.PolarityOf(labels[i])
                ?? throw new ArgumentException($"Row {i}: the label '{labels[i]}' is not in the polarity mapping ({mapping}).", nameof(labels));
            rows[i] = BarometerRow.Labelled(dates[i], polarity);
        }

        return rows;
    }

    /// <summary>
    /// Rows from class probabilities: <paramref name="probabilities"/> holds dates.Count x classNames.Count values,
    /// row-major in class order (the layout <see cref="ITextScorer.Score"/> writes). Each row must be finite, in
    /// [0, 1] and sum to 1 within 1e-3 (a softmax in single precision); it is not renormalised. Throws
    /// <see cref="ArgumentException"/> naming the row (0-based) otherwise, or when the mapping does not cover every
    /// class (<see cref="PolarityMapping.Resolve"/>).
    /// </summary>
    public static BarometerRow[] FromProbabilities(IReadOnlyList<DateOnly> dates, ReadOnlySpan<double> probabilities, IReadOnlyList<string> classNames, PolarityMapping mapping, PolarityRule rule = PolarityRule.MostLikely)
    {
        ArgumentNullException.ThrowIfNull(dates);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(mapping);
        var polarity = mapping.Resolve(classNames);
        var k = classNames.Count;
        SameLength(dates.Count * (long)k, probabilities.Length, nameof(probabilities));
        var rows = new BarometerRow[dates.Count];
        for (var i = 0; i < rows.Length; i++)
        {
            var p = probabilities.Slice(i * k, k);
            double positive = 0, negative = 0, sum = 0;
            var best = 0;
            for (var c = 0; c < k; c++)
            {
                if (!double.IsFinite(p[c]) || p[c] < 0 || p[c] > 1)
                {
                    throw new ArgumentException($"Row {i}: the probability of class '{classNames[c]}' is {p[c]}, not in [0, 1].", nameof(probabilities));
                }

                sum += p[c];
                positive += polarity[c] > 0 ? p[c] : 0;
                negative += polarity[c] < 0 ? p[c] : 0;
                best = p[c] > p[best] ? c : best;
            }

            if (Math.Abs(sum - 1) > 1e-3)
            {
                throw new ArgumentException($"Row {i}: the class probabilities sum to {sum}, not 1.", nameof(probabilities));
            }

            rows[i] = rule switch
            {
                PolarityRule.MostLikely => BarometerRow.Labelled(dates[i], polarity[best]),
                PolarityRule.Expected => new BarometerRow(dates[i], Math.Min(positive, 1), Math.Min(negative, 1 - Math.Min(positive, 1))),
                _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, "Unknown polarity rule."),
            };
        }

        return rows;
    }

    private static void SameLength(long expected, long actual, string name)
    {
        if (expected != actual)
        {
            throw new ArgumentException($"Expected {expected} values, found {actual}.", name);
        }
    }
}
