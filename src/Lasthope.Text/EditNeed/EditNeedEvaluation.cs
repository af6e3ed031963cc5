using Lasthope.Evaluation;

namespace Lasthope.Text.EditNeed;

/// <summary>One model's predictions of the held-out units, in the order of the units.</summary>
public sealed record EditNeedScores(string Name, bool IsBaseline, double[] Predictions);

/// <summary>One model's held-out figures with 95% intervals clustered by document.</summary>
/// <param name="Spearman">Spearman's rank correlation of predicted and true edit rates over the pooled units.</param>
/// <param name="Precision">The share of flagged units that need editing.</param>
public sealed record EditNeedModelResult(string Name, bool IsBaseline, Interval Spearman, Interval Precision);

/// <summary>A learnt model minus the best baseline, paired on the same resampled documents.</summary>
public sealed record EditNeedDifference(string Name, string Baseline, Interval Spearman, Interval Precision, string Verdict);

/// <summary>The held-out comparison.</summary>
/// <param name="Documents">Held-out source documents (the clusters).</param>
/// <param name="Texts">Held-out submitted texts (a document's revisions are separate texts).</param>
/// <param name="Units">Held-out units.</param>
/// <param name="RelevantAbove">A unit needs editing when its true edit rate is above this (the training units' quantile).</param>
/// <param name="RelevantShare">The share of held-out units that need editing: what a random flag hits.</param>
/// <param name="HighlightShare">The share flagged.</param>
/// <param name="WithinText">Whether the flags are the top share of each text (sentences) or of all held-out units (paragraphs).</param>
public sealed record EditNeedComparison(
    int Documents, int Texts, int Units, double RelevantAbove, double RelevantShare, double HighlightShare, bool WithinText, int Resamples,
    IReadOnlyList<EditNeedModelResult> Models, string BestBaseline, IReadOnlyList<EditNeedDifference> Differences);

/// <summary>
/// Held-out evaluation of edit need, grouped by source document: Spearman's rank correlation (ties at their mean
/// rank) of predicted and true edit rates, and the precision of the highlights (the top share of each text's units by
/// predicted rate, <see cref="EditNeedModel.Highlight"/>) against "needs editing" (a true edit rate above a threshold
/// fixed on the training units). Intervals are percentile bootstraps (Efron and Tibshirani 1993) that resample source
/// documents, not units: a document's units, and its revisions, are correlated, and resampling units would make the
/// intervals too narrow (the cluster bootstrap; Davison and Hinkley 1997, section 3.8). Every model is measured on the
/// same resamples, so the difference from the baseline is paired.
/// </summary>
public static class EditNeedEvaluation
{
    /// <summary>Compares the models on the held-out <paramref name="units"/>.</summary>
    /// <param name="units">The held-out units, each text's units consecutive and in order.</param>
    /// <param name="models">The baselines and the learnt models, each with one prediction per unit.</param>
    /// <param name="relevantAbove">The true rate above which a unit needs editing.</param>
    /// <param name="highlightShare">The share of units flagged.</param>
    /// <param name="withinText">Flag the top share of each text (else of all units pooled).</param>
    /// <param name="resamples">Bootstrap resamples.</param>
    /// <param name="seed">Seed of the resampling.</param>
    public static EditNeedComparison Compare(IReadOnlyList<EditNeedExample> units, IReadOnlyList<EditNeedScores> models, double relevantAbove, double highlightShare, bool withinText, int resamples = 1000, int seed = 42)
    {
        ArgumentNullException.ThrowIfNull(units);
        ArgumentNullException.ThrowIfNull(models);
        ArgumentOutOfRangeException.ThrowIfLessThan(resamples, 1);
        if (units.Count == 0 || models.Count == 0 || models.Any(m => m.Predictions.Length != units.Count) || !models.Any(m => m.IsBaseline))
        {
            throw new ArgumentException("Every model needs one prediction per unit, and there must be units and a baseline.", nameof(models));
        }

        var truth = units.Select(u => u.Rate).ToArray();
        var relevant = truth.Select(r => r > relevantAbove).ToArray();
        var clusterIds = units.Select(u => u.DocumentId).Distinct(StringComparer.Ordinal).ToList();
        var clusterOf = clusterIds.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i, StringComparer.Ordinal);
        var members = new List<int>[clusterIds.Count];
        for (var c = 0; c < members.Length; c++)
        {
            members[c] = [];
        }

        for (var i = 0; i < units.Count; i++)
        {
            members[clusterOf[units[i].DocumentId]].Add(i);
        }

        // Flags are fixed by the texts (or the pool); resampling documents reweights their hits.
        var flags = models.Select(m => Flags(units, m.Predictions, highlightShare, withinText)).ToArray();
        var hits = new double[models.Count][];
        var flagged = new double[models.Count][];
        for (var m = 0; m < models.Count; m++)
        {
            hits[m] = new double[members.Length];
            flagged[m] = new double[members.Length];
            for (var c = 0; c < members.Length; c++)
            {
                foreach (var i in members[c])
                {
                    if (flags[m][i])
                    {
                        flagged[m][c]++;
                        hits[m][c] += relevant[i] ? 1 : 0;
                    }
                }
            }
        }

        var allClusters = Enumerable.Range(0, members.Length).ToArray();
        var pointSpearman = models.Select(m => Spearman(truth, m.Predictions, members, allClusters)).ToArray();
        var pointPrecision = models.Select((_, m) => Precision(hits[m], flagged[m], allClusters)).ToArray();
        var bootSpearman = new double[models.Count][];
        var bootPrecision = new double[models.Count][];
        for (var m = 0; m < models.Count; m++)
        {
            bootSpearman[m] = new double[resamples];
            bootPrecision[m] = new double[resamples];
        }

        var random = new Random(seed);
        var draw = new int[members.Length];
        for (var r = 0; r < resamples; r++)
        {
            for (var c = 0; c < draw.Length; c++)
            {
                draw[c] = random.Next(members.Length);
            }

            for (var m = 0; m < models.Count; m++)
            {
                bootSpearman[m][r] = Spearman(truth, models[m].Predictions, members, draw);
                bootPrecision[m][r] = Precision(hits[m], flagged[m], draw);
            }
        }

        var results = models.Select((m, k) => new EditNeedModelResult(m.Name, m.IsBaseline, Percentile(pointSpearman[k], bootSpearman[k]), Percentile(pointPrecision[k], bootPrecision[k]))).ToList();
        var best = Enumerable.Range(0, models.Count).Where(k => models[k].IsBaseline)
            .OrderByDescending(k => pointPrecision[k]).ThenByDescending(k => pointSpearman[k]).First();
        var differences = new List<EditNeedDifference>();
        for (var k = 0; k < models.Count; k++)
        {
            if (models[k].IsBaseline)
            {
                continue;
            }

            var ds = Percentile(pointSpearman[k] - pointSpearman[best], [.. bootSpearman[k].Zip(bootSpearman[best], (a, b) => a - b)]);
            var dp = Percentile(pointPrecision[k] - pointPrecision[best], [.. bootPrecision[k].Zip(bootPrecision[best], (a, b) => a - b)]);
            differences.Add(new EditNeedDifference(models[k].Name, models[best].Name, ds, dp, Verdict(models[k].Name, models[best].Name, dp, ds)));
        }

        return new EditNeedComparison(members.Length, units.Select(u => u.Document).Distinct(StringComparer.Ordinal).Count(), units.Count, relevantAbove,
            relevant.Count(x => x) / (double)units.Count, highlightShare, withinText, resamples, results, models[best].Name, differences);
    }

    /// <summary>
    /// "better", "no better" or "worse" than the baseline by the paired interval of the precision difference (the
    /// product's figure: how many highlights are right), with Spearman's difference beside it.
    /// </summary>
    public static string Verdict(string model, string baseline, Interval precision, Interval spearman)
    {
        var p = precision.Lower > 0 ? "better than" : precision.Upper < 0 ? "worse than" : "no better than";
        var s = spearman.Lower > 0 ? "higher" : spearman.Upper < 0 ? "lower" : "not distinguishable";
        return FormattableString.Invariant($"{model} is {p} {baseline} at the top-share precision ({precision.Estimate:+0.000;-0.000} [{precision.Lower:+0.000;-0.000}, {precision.Upper:+0.000;-0.000}]); its Spearman is {s} ({spearman.Estimate:+0.000;-0.000} [{spearman.Lower:+0.000;-0.000}, {spearman.Upper:+0.000;-0.000}])");
    }

    /// <summary>Spearman's rank correlation: Pearson's of the average ranks (ties share their mean rank); NaN when one side is constant.</summary>
    public static double Spearman(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException("The two samples differ in length.", nameof(b));
        }

        var ra = Ranks(a);
        var rb = Ranks(b);
        return Pearson(ra, rb);
    }

    private static bool[] Flags(IReadOnlyList<EditNeedExample> units, double[] scores, double share, bool withinText)
    {
        if (!withinText)
        {
            return EditNeedModel.Highlight(scores, share);
        }

        var flags = new bool[units.Count];
        var start = 0;
        while (start < units.Count)
        {
            var end = start;
            while (end < units.Count && units[end].Document == units[start].Document)
            {
                end++;
            }

            EditNeedModel.Highlight(scores.AsSpan(start, end - start), share).CopyTo(flags.AsSpan(start));
            start = end;
        }

        return flags;
    }

    private static double Spearman(double[] truth, double[] predictions, List<int>[] members, int[] clusters)
    {
        var n = 0;
        foreach (var c in clusters)
        {
            n += members[c].Count;
        }

        var a = new double[n];
        var b = new double[n];
        var k = 0;
        foreach (var c in clusters)
        {
            foreach (var i in members[c])
            {
                a[k] = truth[i];
                b[k++] = predictions[i];
            }
        }

        return Spearman(a, b);
    }

    private static double Precision(double[] hits, double[] flagged, int[] clusters)
    {
        double h = 0, f = 0;
        foreach (var c in clusters)
        {
            h += hits[c];
            f += flagged[c];
        }

        return f == 0 ? double.NaN : h / f;
    }

    private static double[] Ranks(ReadOnlySpan<double> values)
    {
        var order = new int[values.Length];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        var keys = values.ToArray();
        Array.Sort(keys, order);
        var ranks = new double[values.Length];
        var start = 0;
        while (start < keys.Length)
        {
            var end = start + 1;
            while (end < keys.Length && keys[end] == keys[start])
            {
                end++;
            }

            var mean = (start + end - 1) / 2.0 + 1;
            for (var j = start; j < end; j++)
            {
                ranks[order[j]] = mean;
            }

            start = end;
        }

        return ranks;
    }

    private static double Pearson(double[] a, double[] b)
    {
        var n = a.Length;
        if (n < 2)
        {
            return double.NaN;
        }

        double ma = a.Average(), mb = b.Average(), sab = 0, saa = 0, sbb = 0;
        for (var i = 0; i < n; i++)
        {
            var da = a[i] - ma;
            var db = b[i] - mb;
            sab += da * db;
            saa += da * da;
            sbb += db * db;
        }

        return saa == 0 || sbb == 0 ? double.NaN : sab / Math.Sqrt(saa * sbb);
    }

    private static Interval Percentile(double estimate, double[] values)
    {
        var finite = values.Where(double.IsFinite).Order().ToArray();
        if (finite.Length == 0)
        {
            return new Interval(estimate, double.NaN, double.NaN, 0.95);
        }

        return new Interval(estimate, Quantile(finite, 0.025), Quantile(finite, 0.975), 0.95);
    }

    private static double Quantile(double[] sorted, double p)
    {
        var h = (sorted.Length - 1) * p;
        var lo = (int)Math.Floor(h);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + ((h - lo) * (sorted[hi] - sorted[lo]));
    }
}
