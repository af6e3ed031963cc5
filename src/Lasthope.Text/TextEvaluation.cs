using System.Globalization;
using Lasthope.Evaluation;

namespace Lasthope.Text;

/// <summary>One class's held-out precision, recall and F1 for one model (point estimates; <see cref="Support"/> says how far to trust them).</summary>
public sealed record ClassScore(string Class, int Support, int PredictedCount, double Precision, double Recall, double F1);

/// <summary>One model's held-out predictions and what they give per class.</summary>
/// <param name="Predictions">Classify: texts x classes probabilities; regress: one value per text.</param>
/// <param name="Predicted">Classify: the argmax class per text; regress: empty.</param>
/// <param name="Confusion">Classify: [actual][predicted] counts; regress: empty.</param>
public sealed record ModelResult(string Model, double[] Predictions, int[] Predicted, IReadOnlyList<ClassScore> PerClass, long[][] Confusion);

/// <summary>
/// Every model on the same held-out texts: each metric with its 95% percentile bootstrap interval, the paired
/// difference of the first model from the best baseline on the same resamples, and the verdict by the primary metric.
/// </summary>
/// <param name="Values">[model][metric].</param>
/// <param name="Difference">[metric]: the first model minus <see cref="BestBaseline"/>, paired.</param>
public sealed record TextEvaluation(
    TextTask Task,
    IReadOnlyList<string> Classes,
    double[] Labels,
    IReadOnlyList<string> Metrics,
    IReadOnlyList<bool> HigherIsBetter,
    IReadOnlyList<ModelResult> Models,
    Interval[][] Values,
    string BestBaseline,
    Interval[] Difference,
    string Verdict)
{
    public int Rows => Labels.Length;

    /// <summary>The value of <paramref name="metric"/> for <paramref name="model"/>.</summary>
    public Interval Value(string model, string metric) =>
        Values[Models.ToList().FindIndex(m => m.Model == model)][Metrics.ToList().IndexOf(metric)];

    /// <summary>The paired difference of <paramref name="metric"/>: the first model minus the best baseline.</summary>
    public Interval DifferenceOf(string metric) => Difference[Metrics.ToList().IndexOf(metric)];
}

/// <summary>
/// Held-out metrics of text models, through <see cref="PredictionMetrics.Compare"/> (multinomial: macro-F1, log loss,
/// accuracy; regression: RMSE, MAE, R²; a resample is a vector of row multiplicities shared by every model) and, for a
/// regression, Spearman's ρ and the precision of the top <see cref="TopShare"/> on their own paired bootstrap over
/// rows. Macro-F1 averages F1 = 2TP / (predicted + actual) over the classes present in the held-out labels, so a class
/// a model never predicts counts 0 (a model that predicts only the majority class gets a low macro-F1).
/// </summary>
public static class TextMetrics
{
    /// <summary>The top share of a regression's texts by predicted value whose precision is reported: the texts among the top 20% by truth.</summary>
    public const double TopShare = 0.2;

    /// <summary>Compares <paramref name="models"/>[0] with the others on the same held-out texts.</summary>
    /// <param name="labels">Class indices (classify) or values (regress), one per text.</param>
    public static TextEvaluation Compare(TextTask task, IReadOnlyList<string> classes, double[] labels, IReadOnlyList<ScoredModel> models, int resamples = 1000, int seed = 42)
    {
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(models);
        var kind = task == TextTask.Classify ? PredictionKind.Multiclass : PredictionKind.Regression;
        var c = PredictionMetrics.Compare(kind, labels, models, classes.Count, resamples: resamples, seed: seed);
        var results = models.Select(m => task == TextTask.Classify ? Classification(m, labels, classes) : new ModelResult(m.Name, m.Predictions, [], [], [])).ToList();
        if (task == TextTask.Classify)
        {
            return new TextEvaluation(task, classes, labels, c.Metrics, c.HigherIsBetter, results, c.Values, c.BestBaseline, c.Difference, c.Verdict);
        }

        // Regression: Spearman and the precision of the top share, each with its own interval and the paired difference from Compare's best baseline.
        var best = c.Models.ToList().IndexOf(c.BestBaseline);
        var relevant = TopByTruth(labels, TopShare);
        var spearman = Paired(labels.Length, models, best, (idx, p) => Spearman(labels, p, idx), resamples, seed);
        var top = Paired(labels.Length, models, best, (idx, p) => PrecisionOfTop(relevant, p, idx, TopShare), resamples, seed);
        var precision = models.Select(m => PredictionMetrics.PrecisionAtTop(relevant, m.Predictions, TopShare, resamples: resamples, seed: seed)).ToArray();
        var values = c.Values.Select((v, m) => (Interval[])[.. v, spearman.Values[m], precision[m]]).ToArray();
        return new TextEvaluation(task, classes, labels, [.. c.Metrics, "spearman", "precision_top20"], [.. c.HigherIsBetter, true, true], results, values,
            c.BestBaseline, [.. c.Difference, spearman.Difference, top.Difference], c.Verdict);
    }

    /// <summary>Per-class precision, recall and F1 and the confusion matrix of the argmax class.</summary>
    public static ModelResult Classification(ScoredModel model, double[] labels, IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classes);
        var k = classes.Count;
        var confusion = Enumerable.Range(0, k).Select(_ => new long[k]).ToArray();
        var predicted = new int[labels.Length];
        for (var i = 0; i < labels.Length; i++)
        {
            var row = model.Predictions.AsSpan(i * k, k);
            var best = 0;
            for (var j = 1; j < k; j++)
            {
                best = row[j] > row[best] ? j : best;
            }

            predicted[i] = best;
            confusion[(int)labels[i]][best]++;
        }

        var perClass = new ClassScore[k];
        for (var j = 0; j < k; j++)
        {
            var tp = confusion[j][j];
            var actual = confusion[j].Sum();
            var said = confusion.Sum(r => r[j]);
            var precision = said == 0 ? double.NaN : (double)tp / said;
            var recall = actual == 0 ? double.NaN : (double)tp / actual;
            var f1 = actual + said == 0 ? double.NaN : 2.0 * tp / (actual + said);
            perClass[j] = new ClassScore(classes[j], (int)actual, (int)said, precision, recall, f1);
        }

        return new ModelResult(model.Name, model.Predictions, predicted, perClass, confusion);
    }

    /// <summary>Spearman's ρ: Pearson's correlation of the average ranks (ties share their mean rank); rows <paramref name="rows"/> of the arrays.</summary>
    public static double Spearman(double[] y, double[] p, int[] rows)
    {
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(rows);
        var a = Ranks([.. rows.Select(i => y[i])]);
        var b = Ranks([.. rows.Select(i => p[i])]);
        double ma = a.Average(), mb = b.Average(), sab = 0, saa = 0, sbb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }

        return saa > 0 && sbb > 0 ? sab / Math.Sqrt(saa * sbb) : double.NaN;
    }

    /// <summary>1 for the rows whose true value is among the top ceil(share x n) (ties by row order), else 0.</summary>
    public static double[] TopByTruth(double[] y, double share)
    {
        ArgumentNullException.ThrowIfNull(y);
        var order = Enumerable.Range(0, y.Length).OrderByDescending(i => y[i]).ThenBy(i => i).ToArray();
        var take = (int)Math.Ceiling(share * y.Length);
        var relevant = new double[y.Length];
        foreach (var i in order.Take(take))
        {
            relevant[i] = 1;
        }

        return relevant;
    }

    private static double PrecisionOfTop(double[] relevant, double[] p, int[] rows, double share)
    {
        var take = (int)Math.Ceiling(share * rows.Length);
        var order = Enumerable.Range(0, rows.Length).OrderByDescending(i => p[rows[i]]).ThenBy(i => i).Take(take);
        return order.Sum(i => relevant[rows[i]]) / take;
    }

    private static double[] Ranks(double[] values)
    {
        var order = Enumerable.Range(0, values.Length).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Length];
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end < order.Length && values[order[end]] == values[order[start]])
            {
                end++;
            }

            var mean = (start + end - 1) / 2.0 + 1;
            for (var i = start; i < end; i++)
            {
                ranks[order[i]] = mean;
            }

            start = end;
        }

        return ranks;
    }

    /// <summary>A statistic of each model on the full rows and on the same row resamples, and model 0 minus model <paramref name="best"/>.</summary>
    private static (Interval[] Values, Interval Difference) Paired(int n, IReadOnlyList<ScoredModel> models, int best, Func<int[], double[], double> statistic, int resamples, int seed)
    {
        var all = Enumerable.Range(0, n).ToArray();
        var full = models.Select(m => statistic(all, m.Predictions)).ToArray();
        var draws = models.Select(_ => new double[resamples]).ToArray();
        var random = new Random(seed);
        var rows = new int[n];
        for (var r = 0; r < resamples; r++)
        {
            for (var i = 0; i < n; i++)
            {
                rows[i] = random.Next(n);
            }

            for (var m = 0; m < models.Count; m++)
            {
                draws[m][r] = statistic(rows, models[m].Predictions);
            }
        }

        var values = models.Select((_, m) => Percentile(full[m], draws[m])).ToArray();
        var difference = Percentile(full[0] - full[best], [.. draws[0].Select((v, r) => v - draws[best][r])]);
        return (values, difference);
    }

    private static Interval Percentile(double estimate, double[] draws, double level = 0.95)
    {
        var sorted = draws.Where(double.IsFinite).Order().ToArray();
        if (sorted.Length == 0)
        {
            return new Interval(estimate, double.NaN, double.NaN, level);
        }

        double Quantile(double q)
        {
            // Type 7 of Hyndman and Fan (1996), as Bootstrap's.
            var h = (sorted.Length - 1) * q;
            var lo = (int)Math.Floor(h);
            var hi = Math.Min(lo + 1, sorted.Length - 1);
            return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
        }

        var alpha = (1 - level) / 2;
        return new Interval(estimate, Quantile(alpha), Quantile(1 - alpha), level);
    }

    /// <summary>A figure as the reports print it: 4 decimals, invariant.</summary>
    public static string Format(double value) => double.IsFinite(value) ? value.ToString("F4", CultureInfo.InvariantCulture) : "-";
}
