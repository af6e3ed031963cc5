namespace Lasthope.Server.Predict;

/// <summary>
/// A predictor's fallback, evaluated on the same encoded row as the model: a constant, or a scorecard whose raw score
/// is intercept + sum of w * (x - mean) / scale over numbers (a missing number counts as its mean) + the weight of the
/// row's category over categories (an unseen or missing category weighs 0).
/// <para>
/// Its explanation is exact for a linear model with independent inputs (the Shapley value of a linear term is its
/// deviation from its expectation, Lundberg &amp; Lee 2017, section 4.1): a number's contribution is its term, whose
/// expectation is 0; a category's is its weight minus the share-weighted mean of its categories' weights. They sum
/// with the base value (the intercept plus those means) to the raw score.
/// </para>
/// </summary>
internal sealed class FallbackScorer
{
    /// <summary>
    /// A number's standardised value is clamped to this many standard deviations: with the package's bounded weights
    /// (<see cref="PredictorPackage.MaxWeight"/>) every term, and so every score, stays finite for any finite input.
    /// </summary>
    public const double MaxStandardScore = 1e6;

    private readonly double[] _intercepts;
    private readonly double[] _constant;
    private readonly (int Column, int Category, double[] Weights, double Mean, double Scale)[] _terms;

    /// <summary>Per column and output: the expected value of its terms (0 for numbers).</summary>
    private readonly double[,] _expected;
    private readonly int _outputs;

    public FallbackScorer(PredictorPackage package, IReadOnlyDictionary<string, int> columns)
    {
        _outputs = package.Task == PredictionTask.Multiclass ? package.Classes.Count : 1;
        _expected = new double[package.Features.Count, _outputs];
        if (package.Fallback.Scorecard is { } card)
        {
            _intercepts = [.. card.Intercepts];
            _constant = [];
            _terms = [.. card.Terms.Select(t =>
            {
                var column = columns[t.Feature];
                var category = t.Category is null ? -1 : package.Features[column].Categories!.ToList().IndexOf(t.Category);
                if (t.Category is not null && category < 0)
                {
                    throw new PredictorPackageException($"The scorecard names category '{t.Category}' of '{t.Feature}', which the feature does not have.");
                }

                if (category >= 0)
                {
                    for (var k = 0; k < _outputs; k++)
                    {
                        _expected[column, k] += t.Share * t.Weights[k];
                    }
                }

                return (column, category, t.Weights.ToArray(), t.Mean, t.Scale);
            })];
        }
        else
        {
            _intercepts = [];
            _constant = [.. package.Fallback.Constant!];
            _terms = [];
        }
    }

    public void Score(ReadOnlySpan<double> row, Span<double> raw)
    {
        if (_constant.Length > 0)
        {
            _constant.CopyTo(raw);
            return;
        }

        _intercepts.CopyTo(raw);
        foreach (var (column, category, weights, mean, scale) in _terms)
        {
            var x = row[column];
            var z = Term(x, category, mean, scale);
            for (var k = 0; k < raw.Length; k++)
            {
                raw[k] += weights[k] * z;
            }
        }
    }

    /// <summary>Contributions of output <paramref name="output"/>: one per column, then the base value.</summary>
    public void Explain(ReadOnlySpan<double> row, int output, Span<double> contributions)
    {
        contributions.Clear();
        var features = contributions.Length - 1;
        if (_constant.Length > 0)
        {
            contributions[features] = _constant[output];
            return;
        }

        var bias = _intercepts[output];
        for (var c = 0; c < features; c++)
        {
            contributions[c] = -_expected[c, output];
            bias += _expected[c, output];
        }

        foreach (var (column, category, weights, mean, scale) in _terms)
        {
            contributions[column] += weights[output] * Term(row[column], category, mean, scale);
        }

        contributions[features] = bias;
    }

    /// <summary>The logistic link of a binary scorecard or prior: P = 1 / (1 + exp(-raw)).</summary>
    public static double Logistic(double raw) => 1 / (1 + Math.Exp(-raw));

    /// <summary>The softmax link of a multiclass scorecard or prior, in place (shifted by the maximum, so no exp overflows).</summary>
    public static void Softmax(Span<double> raw)
    {
        var max = double.NegativeInfinity;
        foreach (var r in raw)
        {
            max = Math.Max(max, r);
        }

        var sum = 0.0;
        foreach (ref var r in raw)
        {
            r = Math.Exp(r - max);
            sum += r;
        }

        foreach (ref var r in raw)
        {
            r /= sum;
        }
    }

    /// <summary>A term's input: a category's indicator, or a number's standard score (0 when missing, clamped).</summary>
    private static double Term(double x, int category, double mean, double scale) =>
        category >= 0 ? (x == category ? 1.0 : 0.0)
        : double.IsNaN(x) ? 0.0
        : Math.Clamp((x - mean) / scale, -MaxStandardScore, MaxStandardScore);
}
