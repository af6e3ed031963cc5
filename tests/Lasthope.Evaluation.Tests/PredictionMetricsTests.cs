namespace Lasthope.Evaluation.Tests;

/// <summary>The held-out metrics of tabular models against hand-computed values, and the comparison's verdict.</summary>
public sealed class PredictionMetricsTests
{
    private static Interval Metric(PredictionComparison c, int model, string metric) => c.Values[model][c.Metrics.ToList().IndexOf(metric)];

    [Fact]
    public void Binary_AucKsLogLossBrierAndCost_AreTheTextbookValues()
    {
        // Scores 0.1 (neg), 0.4 (pos), 0.45 (neg), 0.8 (pos): 3 of the 4 positive-negative pairs are ordered: AUC 0.75.
        double[] y = [0, 1, 0, 1];
        double[] p = [0.1, 0.4, 0.45, 0.8];
        var c = PredictionMetrics.Compare(PredictionKind.Binary, y, [new("m", p), new("prior", [0.5, 0.5, 0.5, 0.5])], costs: DecisionCosts.FromCosts(1, 5), resamples: 50);

        Assert.Equal(0.75, Metric(c, 0, "auc").Estimate, 12);
        Assert.Equal(0.5, Metric(c, 1, "auc").Estimate, 12); // one tie group: every pair counts half
        var logLoss = -(Math.Log(0.9) + Math.Log(0.4) + Math.Log(0.55) + Math.Log(0.8)) / 4;
        Assert.Equal(logLoss, Metric(c, 0, "log_loss").Estimate, 12);
        Assert.Equal((0.01 + 0.36 + 0.2025 + 0.04) / 4, Metric(c, 0, "brier").Estimate, 12);

        // KS: in ascending score, the classes' cumulative shares are (neg, pos) = (0.5, 0), (0.5, 0.5), (1, 0.5), (1, 1).
        Assert.Equal(0.5, Metric(c, 0, "ks").Estimate, 12);

        // Threshold 1/6: 0.1 is approved (a good one: no cost), the rest refused; the good one at 0.45 costs 1.
        Assert.Equal(1 / 6.0, DecisionCosts.FromCosts(1, 5).Threshold, 12);
        Assert.Equal(0.25, Metric(c, 0, "cost_error").Estimate, 12);
    }

    [Fact]
    public void Regression_RmseMaeAndR2()
    {
        double[] y = [1, 2, 3, 4];
        double[] p = [1.5, 2, 2, 4];
        var c = PredictionMetrics.Compare(PredictionKind.Regression, y, [new("m", p), new("mean", [2.5, 2.5, 2.5, 2.5])], resamples: 50);
        Assert.Equal(Math.Sqrt((0.25 + 0 + 1 + 0) / 4), Metric(c, 0, "rmse").Estimate, 12);
        Assert.Equal(1.5 / 4, Metric(c, 0, "mae").Estimate, 12);
        Assert.Equal(1 - 1.25 / 5, Metric(c, 0, "r2").Estimate, 12);
        Assert.Equal(0, Metric(c, 1, "r2").Estimate, 12);
    }

    [Fact]
    public void Multiclass_MacroF1_AveragesThePerClassF1()
    {
        // Truth 0,0,1,2; predicted 0,1,1,1. Class 0: TP 1, predicted 1, actual 2 -> F1 2/3; class 1: TP 1, predicted 3,
        // actual 1 -> 0.5; class 2: TP 0 -> 0. Macro-F1 = (2/3 + 1/2 + 0) / 3.
        double[] y = [0, 0, 1, 2];
        double[] p = [0.8, 0.1, 0.1, 0.2, 0.7, 0.1, 0.1, 0.8, 0.1, 0.3, 0.4, 0.3];
        double[] prior = [.. Enumerable.Range(0, 4).SelectMany(_ => new[] { 0.5, 0.25, 0.25 })];
        var c = PredictionMetrics.Compare(PredictionKind.Multiclass, y, [new("m", p), new("prior", prior)], classes: 3, resamples: 50);
        Assert.Equal((2 / 3.0 + 0.5) / 3, Metric(c, 0, "macro_f1").Estimate, 12);
        Assert.Equal(0.5, Metric(c, 0, "accuracy").Estimate, 12);
    }

    [Fact]
    public void Multiclass_MacroF1_AveragesOverEveryClassOfTheModel()
    {
        // Four classes; truth 0,0,1,1; predicted 0,2,1,1. Class 0: TP 1, predicted 1, actual 2 -> 2/3; class 1: TP 2,
        // predicted 2, actual 2 -> 1; class 2: predicted once, never true -> 0; class 3: neither true nor predicted ->
        // 0 (scikit-learn's f1_score with labels=all four and average="macro"). Macro-F1 = (2/3 + 1 + 0 + 0) / 4, not
        // the mean over the classes present in the truth, (2/3 + 1) / 2.
        double[] y = [0, 0, 1, 1];
        double[] p = [0.7, 0.1, 0.1, 0.1, 0.2, 0.1, 0.6, 0.1, 0.1, 0.8, 0.05, 0.05, 0.2, 0.6, 0.1, 0.1];
        double[] prior = [.. Enumerable.Range(0, 4).SelectMany(_ => new[] { 0.4, 0.3, 0.2, 0.1 })];
        var c = PredictionMetrics.Compare(PredictionKind.Multiclass, y, [new("m", p), new("prior", prior)], classes: 4, resamples: 50);

        Assert.Equal((2 / 3.0 + 1) / 4, Metric(c, 0, "macro_f1").Estimate, 12);
        Assert.Equal(2 / 3.0 / 4, Metric(c, 1, "macro_f1").Estimate, 12); // the prior predicts class 0 for every row: F1 2/3 there, 0 elsewhere
    }

    [Theory]
    [InlineData(PredictionKind.Binary)]
    [InlineData(PredictionKind.Regression)]
    [InlineData(PredictionKind.Multiclass)]
    public void RowWeights_CountARowAsManyTimesAsItsWeight(PredictionKind kind)
    {
        // Weights 1, 1, 2, 1, 0 measure what the rows 0, 1, 2, 2, 3 measure unweighted (row 4 weighs nothing).
        double[] y = kind == PredictionKind.Regression ? [1, 2, 3, 4, 9] : kind == PredictionKind.Binary ? [0, 1, 0, 1, 1] : [0, 1, 2, 1, 0];
        var width = kind == PredictionKind.Multiclass ? 3 : 1;
        double[] p = kind switch
        {
            PredictionKind.Regression => [1.5, 2, 2, 4, 0],
            PredictionKind.Binary => [0.1, 0.4, 0.45, 0.8, 0.05],
            _ => [0.6, 0.3, 0.1, 0.2, 0.5, 0.3, 0.3, 0.3, 0.4, 0.5, 0.2, 0.3, 0.1, 0.1, 0.8],
        };
        double[] other = [.. p.Select((v, i) => kind == PredictionKind.Regression ? v + 1 : kind == PredictionKind.Binary ? 0.5 : 1.0 / 3)];
        int[] copies = [0, 1, 2, 2, 3];
        double[] Repeat(double[] values, int per) => [.. copies.SelectMany(i => values.Skip(i * per).Take(per))];

        var weighted = PredictionMetrics.Compare(kind, y, [new("m", p), new("o", other)], classes: 3, resamples: 50, weights: [1, 1, 2, 1, 0]);
        var repeated = PredictionMetrics.Compare(kind, Repeat(y, 1), [new("m", Repeat(p, width)), new("o", Repeat(other, width))], classes: 3, resamples: 50);

        for (var k = 0; k < weighted.Metrics.Count; k++)
        {
            Assert.Equal(repeated.Values[0][k].Estimate, weighted.Values[0][k].Estimate, 12);
            Assert.Equal(repeated.Values[1][k].Estimate, weighted.Values[1][k].Estimate, 12);
        }
    }

    [Fact]
    public void Comparison_SaysBetterOnlyWhenThePairedIntervalExcludesZero()
    {
        var random = new Random(3);
        var n = 2_000;
        var y = new double[n];
        var good = new double[n];
        var noisy = new double[n];
        for (var i = 0; i < n; i++)
        {
            var latent = random.NextDouble();
            y[i] = random.NextDouble() < latent ? 1 : 0;
            good[i] = latent;
            noisy[i] = Math.Clamp(latent + 0.8 * (random.NextDouble() - 0.5), 0.01, 0.99);
        }

        var better = PredictionMetrics.Compare(PredictionKind.Binary, y, [new("good", good), new("noisy", noisy), new("prior", Enumerable.Repeat(0.5, n).ToArray())]);
        Assert.Equal("noisy", better.BestBaseline);
        Assert.True(better.Difference[0].Lower > 0);
        Assert.StartsWith("good is better than the best baseline (noisy)", better.Verdict, StringComparison.Ordinal);
        Assert.True(Metric(better, 0, "auc").Lower < Metric(better, 0, "auc").Estimate && Metric(better, 0, "auc").Estimate < Metric(better, 0, "auc").Upper);

        var same = PredictionMetrics.Compare(PredictionKind.Binary, y, [new("copy", good), new("good", good)]);
        Assert.Equal(0, same.Difference[0].Estimate);
        Assert.Contains("no better than the baseline", same.Verdict, StringComparison.Ordinal);

        var worse = PredictionMetrics.Compare(PredictionKind.Binary, y, [new("noisy", noisy), new("good", good)]);
        Assert.StartsWith("noisy is worse", worse.Verdict, StringComparison.Ordinal);
    }
}

/// <summary>Precision at the top of a list, as a team acting on its top 1% would measure it.</summary>
public sealed class PrecisionAtTopTests
{
    [Fact]
    public void CountsThePositivesAmongTheTopShare_TiesByRowOrder()
    {
        double[] y = [1, 0, 1, 0, 0, 1, 0, 0, 0, 0];
        double[] s = [0.9, 0.8, 0.7, 0.7, 0.1, 0.2, 0.3, 0.05, 0.0, 0.6];
        Assert.Equal(0.5, PredictionMetrics.PrecisionAtTop(y, s, 0.2, resamples: 20).Estimate, 12); // 0.9 (hit), 0.8 (miss)
        Assert.Equal(2 / 3.0, PredictionMetrics.PrecisionAtTop(y, s, 0.3, resamples: 20).Estimate, 12); // then 0.7 of row 2 before row 3
        Assert.Equal(0.3, PredictionMetrics.PrecisionAtTop(y, s, 1.0, resamples: 20).Estimate, 12);
    }

    [Fact]
    public void TheInterval_ContainsTheEstimate_AndNarrowsWithMoreRows()
    {
        static (double[] Y, double[] S) Rows(int n)
        {
            var random = new Random(1);
            var y = new double[n];
            var s = new double[n];
            for (var i = 0; i < n; i++)
            {
                s[i] = random.NextDouble();
                y[i] = random.NextDouble() < s[i] * s[i] ? 1 : 0;
            }

            return (y, s);
        }

        var (y1, s1) = Rows(1_000);
        var (y2, s2) = Rows(20_000);
        var small = PredictionMetrics.PrecisionAtTop(y1, s1, 0.1);
        var large = PredictionMetrics.PrecisionAtTop(y2, s2, 0.1);
        Assert.InRange(small.Estimate, small.Lower, small.Upper);
        Assert.InRange(large.Estimate, 0.8, 1.0); // the top decile's s^2 averages about 0.9
        Assert.True(large.Upper - large.Lower < (small.Upper - small.Lower) / 2);
    }
}
