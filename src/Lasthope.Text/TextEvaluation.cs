using System.Globalization;
using Lasthope.Evaluation;

namespace Lasthope.Text;

/// <summary>
/// One class's held-out precision, recall and F1 for one model, each with its 95% percentile bootstrap interval over
/// texts (the same resamples as every other model's; a resample where the class is never predicted or never present
/// leaves precision or recall undefined and is skipped for it). <see cref="Support"/> says how far to trust them.
/// </summary>
public sealed record ClassScore(string Class, int Support, int PredictedCount, Interval Precision, Interval Recall, Interval F1);

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
/// <param name="ClassF1Difference">Classify: [class] the first model's F1 minus <see cref="BestBaseline"/>'s, paired; regress: empty.</param>
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
    string Verdict,
    IReadOnlyList<Interval> ClassF1Difference)
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
        var best = c.Models.ToList().IndexOf(c.BestBaseline);
        if (task == TextTask.Classify)
        {
            var (classified, f1Difference) = Classification(models, labels, classes, best, resamples, seed);
            return new TextEvaluation(task, classes, labels, c.Metrics, c.HigherIsBetter, classified, c.Values, c.BestBaseline, c.Difference, c.Verdict, f1Difference);
        }

        var results = models.Select(m => new ModelResult(m.Name, m.Predictions, [], [], [])).ToList();

        // Regression: Spearman and the precision of the top share, each with its own interval and the paired difference from Compare's best baseline.
        var relevant = TopByTruth(labels, TopShare);
        var spearman = Paired(labels.Length, models, best, (idx, p) => Spearman(labels, p, idx), resamples, seed);
        var top = Paired(labels.Length, models, best, (idx, p) => PrecisionOfTop(relevant, p, idx, TopShare), resamples, seed);
        var precision = models.Select(m => PredictionMetrics.PrecisionAtTop(relevant, m.Predictions, TopShare, resamples: resamples, seed: seed)).ToArray();
        var values = c.Values.Select((v, m) => (Interval[])[.. v, spearman.Values[m], precision[m]]).ToArray();
        return new TextEvaluation(task, classes, labels, [.. c.Metrics, "spearman", "precision_top20"], [.. c.HigherIsBetter, true, true], results, values,
            c.BestBaseline, [.. c.Difference, spearman.Difference, top.Difference], c.Verdict, []);
    }

    /// <summary>
    /// Per-class precision, recall and F1 of the argmax class with bootstrap intervals, the confusion matrix, and the
    /// per-class F1 difference of model 0 from model <paramref name="best"/>, every model on the same row resamples.
    /// </summary>
    public static (IReadOnlyList<ModelResult> Models, Interval[] F1Difference) Classification(IReadOnlyList<ScoredModel> models, double[] labels, IReadOnlyList<string> classes, int best, int resamples, int seed)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classes);
        var k = classes.Count;
        var n = labels.Length;
        var actual = labels.Select(l => (int)l).ToArray();
        var predicted = models.Select(m => ArgMax(m.Predictions, n, k)).ToArray();

        // draws[model][class] = (precision, recall, F1) of each resample.
        var draws = models.Select(_ => Enumerable.Range(0, k).Select(_ => (P: new double[resamples], R: new double[resamples], F: new double[resamples])).ToArray()).ToArray();
        var random = new Random(seed);
        var rows = new int[n];
        var counts = new long[3 * k];
        for (var r = 0; r < resamples; r++)
        {
            for (var i = 0; i < n; i++)
            {
                rows[i] = random.Next(n);
            }

            for (var m = 0; m < models.Count; m++)
            {
                Count(actual, predicted[m], rows, k, counts);
                for (var j = 0; j < k; j++)
                {
                    var (p, rc, f) = Scores(counts, j);
                    draws[m][j].P[r] = p;
                    draws[m][j].R[r] = rc;
                    draws[m][j].F[r] = f;
                }
            }
        }

        var all = Enumerable.Range(0, n).ToArray();
        var results = new ModelResult[models.Count];
        var full = new (double P, double R, double F)[models.Count][];
        for (var m = 0; m < models.Count; m++)
        {
            Count(actual, predicted[m], all, k, counts);
            full[m] = [.. Enumerable.Range(0, k).Select(j => Scores(counts, j))];
            var confusion = Enumerable.Range(0, k).Select(_ => new long[k]).ToArray();
            for (var i = 0; i < n; i++)
            {
                confusion[actual[i]][predicted[m][i]]++;
            }

            var perClass = new ClassScore[k];
            for (var j = 0; j < k; j++)
            {
                var d = draws[m][j];
                perClass[j] = new ClassScore(classes[j], (int)counts[(3 * j) + 1], (int)counts[(3 * j) + 2],
                    Percentile(full[m][j].P, d.P), Percentile(full[m][j].R, d.R), Percentile(full[m][j].F, d.F));
            }

            results[m] = new ModelResult(models[m].Name, models[m].Predictions, predicted[m], perClass, confusion);
        }

        var difference = Enumerable.Range(0, k)
            .Select(j => Percentile(full[0][j].F - full[best][j].F, [.. draws[0][j].F.Select((v, r) => v - draws[best][j].F[r])]))
            .ToArray();
        return (results, difference);
    }

    private static int[] ArgMax(double[] predictions, int n, int k)
    {
        var predicted = new int[n];
        for (var i = 0; i < n; i++)
        {
            var row = predictions.AsSpan(i * k, k);
            var top = 0;
            for (var j = 1; j < k; j++)
            {
                top = row[j] > row[top] ? j : top;
            }

            predicted[i] = top;
        }

        return predicted;
    }

    /// <summary>Per class j: counts[3j] true positives, counts[3j+1] actual, counts[3j+2] predicted, over <paramref name="rows"/>.</summary>
    private static void Count(int[] actual, int[] predicted, int[] rows, int k, long[] counts)
    {
        Array.Clear(counts);
        foreach (var i in rows)
        {
            counts[(3 * actual[i]) + 1]++;
            counts[(3 * predicted[i]) + 2]++;
            if (actual[i] == predicted[i])
            {
                counts[3 * actual[i]]++;
            }
        }
    }

    /// <summary>Precision TP/predicted, recall TP/actual and F1 = 2TP/(predicted + actual); NaN where undefined.</summary>
    private static (double Precision, double Recall, double F1) Scores(long[] counts, int j)
    {
        double tp = counts[3 * j], actual = counts[(3 * j) + 1], said = counts[(3 * j) + 2];
        return (said == 0 ? double.NaN : tp / said, actual == 0 ? double.NaN : tp / actual, actual + said == 0 ? double.NaN : 2 * tp / (actual + said));
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
