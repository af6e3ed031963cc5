namespace Lasthope.Evaluation;

/// <summary>What a tabular model predicts.</summary>
public enum PredictionKind
{
    /// <summary>P(label = 1) per row.</summary>
    Binary,

    /// <summary>A value per row.</summary>
    Regression,

    /// <summary>Every class's probability per row (row-major, the class count per row).</summary>
    Multiclass,
}

/// <summary>How a binary model's decision is scored: refuse (predict 1) when P(1) is at least the threshold.</summary>
/// <param name="Threshold">The decision threshold on P(1).</param>
/// <param name="FalsePositiveCost">The cost of predicting 1 for a 0 (refusing a good customer).</param>
/// <param name="FalseNegativeCost">The cost of predicting 0 for a 1 (accepting a bad one).</param>
public sealed record DecisionCosts(double Threshold = 0.5, double FalsePositiveCost = 1, double FalseNegativeCost = 1)
{
    /// <summary>
    /// The threshold that minimises the expected cost of a calibrated probability p: predict 1 when
    /// p * FN &gt; (1 - p) * FP, that is p &gt; FP / (FP + FN) (Elkan 2001, "The foundations of cost-sensitive learning").
    /// </summary>
    public static DecisionCosts FromCosts(double falsePositiveCost, double falseNegativeCost) =>
        new(falsePositiveCost / (falsePositiveCost + falseNegativeCost), falsePositiveCost, falseNegativeCost);
}

/// <summary>One model's predictions of the held-out rows, to compare.</summary>
public sealed record ScoredModel(string Name, double[] Predictions);

/// <summary>
/// A model against its baselines on the same held-out rows: every metric with its bootstrap interval, the paired
/// difference of the first model from the best baseline on the same resamples, and a verdict.
/// </summary>
/// <param name="Metrics">The metrics, the primary one first.</param>
/// <param name="HigherIsBetter">For each metric, its direction.</param>
/// <param name="Values">[model][metric].</param>
/// <param name="BestBaseline">The baseline with the best primary metric.</param>
/// <param name="Difference">[metric]: the first model minus the best baseline, paired.</param>
public sealed record PredictionComparison(
    PredictionKind Kind,
    IReadOnlyList<string> Metrics,
    IReadOnlyList<bool> HigherIsBetter,
    IReadOnlyList<string> Models,
    Interval[][] Values,
    string BestBaseline,
    Interval[] Difference,
    int Rows,
    string Verdict);

/// <summary>
/// Held-out metrics of tabular models with percentile bootstrap intervals (Efron and Tibshirani 1993): binary AUC, log
/// loss, Brier score, Kolmogorov-Smirnov statistic and cost-weighted error; regression RMSE, MAE and R²; multiclass
/// macro-F1, log loss and accuracy. Macro-F1 is the mean of the per-class F1 = 2 TP / (2 TP + FP + FN) over every one of
/// the model's classes (the <c>classes</c> of <see cref="Compare"/>), not only those present in the rows: a class that
/// is predicted but never true scores 0 (its false positives count), and so does a class with neither true nor
/// predicted rows (absent from the held-out rows or a resample and never predicted), as scikit-learn's
/// <c>f1_score(y, p, labels=classes, average="macro")</c> with its default <c>zero_division</c> computes it ("labels not
/// present in the data will result in 0 components in a macro average",
/// https://scikit-learn.org/stable/modules/generated/sklearn.metrics.f1_score.html). Every model and resample is thus
/// the mean of the same number of terms; such a class adds the same 0 to every model's mean, so it shrinks the paired
/// difference by the same factor for all and never reorders them. A resample is a vector of multiplicities (how often each row was drawn), so every
/// model is measured on the same resample and a rank metric needs no new sort: each model's rows are sorted by score
/// once, and AUC and KS are weighted sums over that order.
/// </summary>
public static class PredictionMetrics
{
    private const double Epsilon = 1e-15;

    public static IReadOnlyList<string> MetricNames(PredictionKind kind) => kind switch
    {
        PredictionKind.Binary => ["auc", "log_loss", "brier", "ks", "cost_error"],
        PredictionKind.Regression => ["rmse", "mae", "r2"],
        _ => ["macro_f1", "log_loss", "accuracy"],
    };

    public static IReadOnlyList<bool> Directions(PredictionKind kind) => kind switch
    {
        PredictionKind.Binary => [true, false, false, true, false],
        PredictionKind.Regression => [false, false, true],
        _ => [true, false, true],
    };

    /// <summary>Compares <paramref name="models"/>[0] with the others (the baselines) on the same rows.</summary>
    /// <param name="labels">Binary 0/1, a value, or the class index.</param>
    /// <param name="classes">The class count of a multiclass model (else ignored): macro-F1 averages over all of them.</param>
    /// <param name="weights">
    /// Per-row weights (non-negative, finite, not all 0), or null for 1 each: every metric counts a row as often as its
    /// weight (a weight of 2 measures what the row twice would). The bootstrap resamples rows, each drawn row keeping its
    /// weight.
    /// </param>
    public static PredictionComparison Compare(
        PredictionKind kind, ReadOnlySpan<double> labels, IReadOnlyList<ScoredModel> models, int classes = 0, DecisionCosts? costs = null,
        double level = 0.95, int resamples = 1000, int seed = 42, IReadOnlyList<double>? weights = null)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentOutOfRangeException.ThrowIfLessThan(models.Count, 2);
        var n = labels.Length;
        ArgumentOutOfRangeException.ThrowIfZero(n);
        var width = kind == PredictionKind.Multiclass ? classes : 1;
        foreach (var m in models)
        {
            if (m.Predictions.Length != n * width)
            {
                throw new ArgumentException($"Model '{m.Name}' has {m.Predictions.Length} predictions for {n} rows.", nameof(models));
            }
        }

        if (weights is not null && (weights.Count != n || !weights.All(v => v >= 0 && double.IsFinite(v)) || weights.Sum() <= 0))
        {
            throw new ArgumentException($"{weights.Count} weights for {n} rows; each must be a non-negative number, and not all 0.", nameof(weights));
        }

        costs ??= new DecisionCosts();
        var rowWeights = weights?.ToArray();
        var y = labels.ToArray();
        var orders = kind == PredictionKind.Binary ? models.Select(m => SortedOrder(m.Predictions)).ToArray() : null;
        var metrics = MetricNames(kind);
        var higher = Directions(kind);
        var draw = new double[n];
        if (rowWeights is null)
        {
            Array.Fill(draw, 1.0);
        }
        else
        {
            rowWeights.CopyTo(draw, 0);
        }

        var full = models.Select((m, i) => Evaluate(kind, y, m.Predictions, orders?[i], draw, width, costs)).ToArray();

        var samples = models.Select(_ => metrics.Select(_ => new double[resamples]).ToArray()).ToArray();
        var random = new Random(seed);
        for (var r = 0; r < resamples; r++)
        {
            Array.Clear(draw);
            for (var i = 0; i < n; i++)
            {
                var row = random.Next(n);
                draw[row] += rowWeights?[row] ?? 1;
            }

            for (var m = 0; m < models.Count; m++)
            {
                var values = Evaluate(kind, y, models[m].Predictions, orders?[m], draw, width, costs);
                for (var k = 0; k < metrics.Count; k++)
                {
                    samples[m][k][r] = values[k];
                }
            }
        }

        var alpha = (1 - level) / 2;
        Interval Of(double estimate, double[] draws)
        {
            var sorted = draws.Where(double.IsFinite).Order().ToArray();
            return sorted.Length == 0 ? new Interval(estimate, double.NaN, double.NaN, level) : new Interval(estimate, Bootstrap.Quantile(sorted, alpha), Bootstrap.Quantile(sorted, 1 - alpha), level);
        }

        var intervals = models.Select((_, m) => metrics.Select((_, k) => Of(full[m][k], samples[m][k])).ToArray()).ToArray();
        var best = Enumerable.Range(1, models.Count - 1).OrderBy(m => higher[0] ? -full[m][0] : full[m][0]).ThenBy(m => m).First();
        var difference = metrics.Select((_, k) => Of(full[0][k] - full[best][k], [.. samples[0][k].Select((v, r) => v - samples[best][k][r])])).ToArray();
        return new PredictionComparison(kind, metrics, higher, [.. models.Select(m => m.Name)], intervals, models[best].Name, difference, n,
            Verdict(models[0].Name, models[best].Name, metrics[0], higher[0], difference[0]));
    }

    /// <summary>
    /// Precision at the top <paramref name="share"/> of rows by score (the share of positives among the
    /// ceil(share * n) highest-scored rows; ties broken by row order), with a percentile bootstrap interval over rows:
    /// what a team that acts on the top of a list (the players it treats as whales) gets right.
    /// </summary>
    public static Interval PrecisionAtTop(ReadOnlySpan<double> labels, ReadOnlySpan<double> scores, double share, double level = 0.95, int resamples = 1000, int seed = 42)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(share, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(share, 1);
        if (labels.Length != scores.Length || labels.IsEmpty)
        {
            throw new ArgumentException($"{labels.Length} labels and {scores.Length} scores.", nameof(scores));
        }

        var n = labels.Length;
        var keys = scores.ToArray();
        var order = Enumerable.Range(0, n).ToArray();
        Array.Sort(order, (a, b) => keys[b] != keys[a] ? keys[b].CompareTo(keys[a]) : a.CompareTo(b)); // descending, ties by row order
        var y = labels.ToArray();
        double Precision(double[] w)
        {
            // The top ceil(share * total weight) draws, walking the rows in score order.
            var total = w.Sum();
            var take = Math.Ceiling(share * total);
            double taken = 0, hits = 0;
            foreach (var i in order)
            {
                if (taken >= take)
                {
                    break;
                }

                var use = Math.Min(w[i], take - taken);
                taken += use;
                hits += use * (y[i] > 0 ? 1 : 0);
            }

            return hits / take;
        }

        var weights = new double[n];
        Array.Fill(weights, 1.0);
        var estimate = Precision(weights);
        var random = new Random(seed);
        var draws = new double[resamples];
        for (var r = 0; r < resamples; r++)
        {
            Array.Clear(weights);
            for (var i = 0; i < n; i++)
            {
                weights[random.Next(n)] += 1;
            }

            draws[r] = Precision(weights);
        }

        Array.Sort(draws);
        var alpha = (1 - level) / 2;
        return new Interval(estimate, Bootstrap.Quantile(draws, alpha), Bootstrap.Quantile(draws, 1 - alpha), level);
    }

    /// <summary>"better", "no better" or "worse" by the primary metric's paired interval.</summary>
    private static string Verdict(string model, string baseline, string metric, bool higherIsBetter, Interval d)
    {
        var sign = higherIsBetter ? 1 : -1;
        static string S(double v) => Math.Round(v, 4) is var r && r == 0 ? "+0.0000" : r.ToString("+0.0000;-0.0000", System.Globalization.CultureInfo.InvariantCulture);
        var text = $"{metric} {model} - {baseline} = {S(d.Estimate)} [{S(d.Lower)}, {S(d.Upper)}]";
        return sign * d.Lower > 0 && sign * d.Upper > 0 ? $"{model} is better than the best baseline ({baseline}): {text}."
            : sign * d.Lower < 0 && sign * d.Upper < 0 ? $"{model} is worse than the best baseline ({baseline}): {text}."
            : $"{model} is no better than the baseline ({baseline}): {text}; the interval includes 0.";
    }

    /// <summary>Every metric of one model, each row counted <paramref name="w"/>[i] times.</summary>
    private static double[] Evaluate(PredictionKind kind, double[] y, double[] p, int[]? order, double[] w, int classes, DecisionCosts costs) => kind switch
    {
        PredictionKind.Binary => Binary(y, p, order!, w, costs),
        PredictionKind.Regression => Regression(y, p, w),
        _ => Multiclass(y, p, w, classes),
    };

    private static double[] Binary(double[] y, double[] p, int[] order, double[] w, DecisionCosts costs)
    {
        double total = 0, positives = 0, logLoss = 0, brier = 0, cost = 0;
        for (var i = 0; i < y.Length; i++)
        {
            if (w[i] == 0)
            {
                continue;
            }

            var q = Math.Clamp(p[i], Epsilon, 1 - Epsilon);
            total += w[i];
            positives += w[i] * y[i];
            logLoss -= w[i] * (y[i] > 0 ? Math.Log(q) : Math.Log(1 - q));
            brier += w[i] * (p[i] - y[i]) * (p[i] - y[i]);
            var refuse = p[i] >= costs.Threshold;
            cost += w[i] * (refuse && y[i] == 0 ? costs.FalsePositiveCost : !refuse && y[i] > 0 ? costs.FalseNegativeCost : 0);
        }

        var negatives = total - positives;

        // AUC as the Mann-Whitney statistic with ties counted half, and KS as the largest gap between the classes'
        // cumulative distributions, both over the rows in ascending score, tie groups together.
        double auc = 0, negativesBelow = 0, positivesBelow = 0, ks = 0;
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            double groupPositives = 0, groupNegatives = 0;
            while (end < order.Length && p[order[end]] == p[order[start]])
            {
                var i = order[end++];
                groupPositives += w[i] * y[i];
                groupNegatives += w[i] * (1 - y[i]);
            }

            auc += groupPositives * (negativesBelow + 0.5 * groupNegatives);
            negativesBelow += groupNegatives;
            positivesBelow += groupPositives;
            ks = Math.Max(ks, Math.Abs(negativesBelow / negatives - positivesBelow / positives));
            start = end;
        }

        return [auc / (positives * negatives), logLoss / total, brier / total, positives > 0 && negatives > 0 ? ks : double.NaN, cost / total];
    }

    private static double[] Regression(double[] y, double[] p, double[] w)
    {
        double total = 0, sum = 0;
        for (var i = 0; i < y.Length; i++)
        {
            total += w[i];
            sum += w[i] * y[i];
        }

        var mean = sum / total;
        double squared = 0, absolute = 0, variance = 0;
        for (var i = 0; i < y.Length; i++)
        {
            var e = p[i] - y[i];
            squared += w[i] * e * e;
            absolute += w[i] * Math.Abs(e);
            variance += w[i] * (y[i] - mean) * (y[i] - mean);
        }

        return [Math.Sqrt(squared / total), absolute / total, variance > 0 ? 1 - squared / variance : double.NaN];
    }

    private static double[] Multiclass(double[] y, double[] p, double[] w, int classes)
    {
        var truePositive = new double[classes];
        var predicted = new double[classes];
        var actual = new double[classes];
        double total = 0, logLoss = 0, correct = 0;
        for (var i = 0; i < y.Length; i++)
        {
            if (w[i] == 0)
            {
                continue;
            }

            var row = p.AsSpan(i * classes, classes);
            var label = (int)y[i];
            var best = 0;
            for (var k = 1; k < classes; k++)
            {
                best = row[k] > row[best] ? k : best;
            }

            total += w[i];
            logLoss -= w[i] * Math.Log(Math.Clamp(row[label], Epsilon, 1));
            predicted[best] += w[i];
            actual[label] += w[i];
            if (best == label)
            {
                truePositive[label] += w[i];
                correct += w[i];
            }
        }

        // Macro-F1 over every class of the model: F1 = 2 TP / (2 TP + FP + FN) = 2 TP / (predicted + actual) per class,
        // averaged over all `classes`; a class with neither true nor predicted rows counts 0 (see the class's summary).
        double f1 = 0;
        for (var k = 0; k < classes; k++)
        {
            f1 += predicted[k] + actual[k] > 0 ? 2 * truePositive[k] / (predicted[k] + actual[k]) : 0;
        }

        return [f1 / classes, logLoss / total, correct / total];
    }

    private static int[] SortedOrder(double[] scores)
    {
        var order = Enumerable.Range(0, scores.Length).ToArray();
        Array.Sort(scores.ToArray(), order);
        return order;
    }
}
