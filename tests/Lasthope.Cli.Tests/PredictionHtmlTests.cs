using System.Diagnostics;
using System.Text.RegularExpressions;
using Lasthope.Cli.Charts;

namespace Lasthope.Cli.Tests;

/// <summary>The prediction report's maths on hand-made cases, and the page it renders for each task.</summary>
public partial class PredictionHtmlTests
{
    private static readonly DateTimeOffset Generated = new(2026, 12, 3, 10, 30, 0, TimeSpan.Zero);

    [Fact]
    public void Auc_IsOne_WhenPerfectlySeparated_AndZero_WhenReversed()
    {
        double[] labels = [0, 0, 1, 1];
        Assert.Equal(1.0, PredictionCurves.Roc([0.1, 0.2, 0.8, 0.9], labels).Auc, 12);
        Assert.Equal(0.0, PredictionCurves.Roc([0.9, 0.8, 0.2, 0.1], labels).Auc, 12);
    }

    [Fact]
    public void Auc_IsHalf_WhenEveryScoreIsTied_AndTheCurveIsTheDiagonal()
    {
        var roc = PredictionCurves.Roc([0.3, 0.3, 0.3, 0.3, 0.3], [0, 1, 0, 1, 1]);
        Assert.Equal(0.5, roc.Auc, 12);
        Assert.Equal([0.0, 1.0], roc.FalsePositiveRates);
        Assert.Equal([0.0, 1.0], roc.TruePositiveRates);
    }

    [Fact]
    public void Auc_MatchesHandCountedPairs_WithATieCountingHalf()
    {
        // Positives 0.9 and 0.7, negatives 0.8 and 0.6: 0.9 beats both, 0.7 beats 0.6 only, 3 of 4 pairs.
        Assert.Equal(0.75, PredictionCurves.Roc([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0]).Auc, 12);

        // Positives 0.9 and 0.7, negatives 0.7 and 0.1: 2 + (half for the tie + 1) = 3.5 of 4 pairs.
        var roc = PredictionCurves.Roc([0.7, 0.1, 0.9, 0.7], [1, 0, 1, 0]);
        Assert.Equal(0.875, roc.Auc, 12);
        Assert.Equal([0.0, 0.0, 0.5, 1.0], roc.FalsePositiveRates);
        Assert.Equal([0.0, 0.5, 1.0, 1.0], roc.TruePositiveRates);
    }

    [Fact]
    public void Auc_IsNaN_ForOneClass()
    {
        Assert.True(double.IsNaN(PredictionCurves.Roc([0.1, 0.5], [1, 1]).Auc));
    }

    [Fact]
    public void Auc_EqualsThePairCount_OnRandomScoresWithTies()
    {
        var random = new Random(7);
        var scores = Enumerable.Range(0, 300).Select(_ => Math.Round(random.NextDouble(), 1)).ToArray();
        var labels = scores.Select(s => random.NextDouble() < s ? 1.0 : 0.0).ToArray();
        double pairs = 0, wins = 0;
        for (var i = 0; i < scores.Length; i++)
        {
            for (var j = 0; j < scores.Length; j++)
            {
                if (labels[i] == 1 && labels[j] == 0)
                {
                    pairs++;
                    wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
                }
            }
        }

        Assert.Equal(wins / pairs, PredictionCurves.Roc(scores, labels).Auc, 12);
    }

    [Theory]
    [InlineData(1_000, 10)]
    [InlineData(1_003, 10)]
    [InlineData(7, 10)]
    [InlineData(0, 10)]
    public void Bands_PartitionTheRows_AndTheirPositivesSumToTheTotal(int rows, int count)
    {
        var random = new Random(rows);
        var scores = Enumerable.Range(0, rows).Select(_ => random.NextDouble()).ToArray();
        var labels = scores.Select(s => random.NextDouble() < s ? 1.0 : 0.0).ToArray();
        var bands = PredictionCurves.EqualCountBands(scores, labels, count);

        Assert.Equal(rows, bands.Sum(b => b.Rows));
        Assert.Equal(labels.Sum(), bands.Sum(b => b.LabelSum));
        Assert.Equal(Math.Min(rows, count), bands.Count);
        Assert.All(bands, b => Assert.InRange(b.Rows, rows / count, rows / count + 1));
        Assert.All(bands.Zip(bands.Skip(1)), p => Assert.True(p.First.High < p.Second.Low));
        if (rows > 0)
        {
            Assert.Equal(scores.Count(s => s >= bands[^1].Low), bands[^1].Rows);
        }
    }

    [Fact]
    public void Bands_KeepTiedScoresInOneBand()
    {
        // Six rows at 0.5 straddle the boundary after the fifth row: they stay together.
        double[] scores = [0.1, 0.2, 0.3, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.9];
        var bands = PredictionCurves.EqualCountBands(scores, [], 2);
        Assert.Equal([9, 1], bands.Select(b => b.Rows));
        Assert.Equal(0.9, bands[1].Low);

        var single = PredictionCurves.EqualCountBands([0.4, 0.4, 0.4], [1, 0, 1], 10);
        Assert.Equal(3, Assert.Single(single).Rows);
        Assert.Equal(2, single[0].LabelSum);
    }

    [Fact]
    public void Calibration_OfACalibratedSet_LiesNearTheDiagonal_AndOfAnOverconfidentOneDoesNot()
    {
        var random = new Random(11);
        var scores = Enumerable.Range(0, 100_000).Select(_ => random.NextDouble()).ToArray();
        var labels = scores.Select(s => random.NextDouble() < s ? 1.0 : 0.0).ToArray();
        var bins = PredictionCurves.CalibrationBins(scores, labels);

        Assert.Equal(10, bins.Count);
        Assert.Equal(scores.Length, bins.Sum(b => b.Rows));
        // 10,000 rows a bin: the observed rate's standard error is at most 0.005.
        Assert.All(bins, b => Assert.InRange(b.ObservedRate - b.MeanPredicted, -0.02, 0.02));
        Assert.All(bins.Zip(bins.Skip(1)), p => Assert.True(p.First.MeanPredicted < p.Second.MeanPredicted));

        // Scores pushed towards 0 and 1 (the true probability is still s): the extreme bins miss by far more.
        var overconfident = scores.Select(s => s < 0.5 ? s / 4 : 1 - (1 - s) / 4).ToArray();
        var far = PredictionCurves.CalibrationBins(overconfident, labels);
        Assert.True(far[1].ObservedRate - far[1].MeanPredicted > 0.05);
        Assert.True(far[^2].MeanPredicted - far[^2].ObservedRate > 0.05);
    }

    [Fact]
    public void Histogram_CountsEveryValue_EdgesIncluded()
    {
        var counts = PredictionCurves.Histogram([0, 0.01, 0.5, 0.99, 1, -3, 7], 10, 0, 1);
        Assert.Equal(7, counts.Sum());
        Assert.Equal(3, counts[0]);
        Assert.Equal(1, counts[5]);
        Assert.Equal(3, counts[9]);
    }

    [Fact]
    public void Sample_IsDeterministic_DistinctAndAscending()
    {
        var a = PredictionCurves.Sample(1_000_000, 5_000, 3);
        Assert.Equal(5_000, a.Length);
        Assert.Equal(a, PredictionCurves.Sample(1_000_000, 5_000, 3));
        Assert.All(a.Zip(a.Skip(1)), p => Assert.True(p.First < p.Second));
        Assert.True(a[^1] > 900_000, "the sample reaches the end of the rows");
        Assert.Equal(Enumerable.Range(0, 40), PredictionCurves.Sample(40, 5_000, 3));
    }

    [Fact]
    public void SpansDecades_OnlyForPositiveValuesOverMoreThanTwoDecades()
    {
        Assert.True(PredictionCurves.SpansDecades([0.5, 3], [200]));
        Assert.False(PredictionCurves.SpansDecades([1, 100]));
        Assert.False(PredictionCurves.SpansDecades([0, 1_000]));
        Assert.False(PredictionCurves.SpansDecades([-1, 1_000]));
    }

    [Fact]
    public void Binary_WithLabels_IsSelfContained_AndEncodesText()
    {
        var (scores, labels) = BinaryRows(5_000, seed: 1);
        var html = PredictionHtml.Render(
            new PredictionReportInput
            {
                Title = "Model <b>& on german.csv",
                Task = "binary",
                ModelName = "GBDT",
                Notes = ["Verdict: <script>alert(1)</script> better than the baselines."],
                MetricColumns = ["GBDT", "prior"],
                Metrics = [new MetricRow("AUC", ["0.812", "0.500"])],
                Scores = scores,
                Labels = labels,
                Baselines = [("prior <i>", [.. scores.Select(_ => 0.3)])],
                Importance = [("age<&>", 0.4), ("income", 0.9)],
                Example = new ReasonRow("row 17 <x>", -0.8, 0.3, [("age<&>", "37 & up", 0.9), ("income", "<none>", 0.2)]),
                Threshold = 0.42,
            },
            Generated);

        AssertSelfContained(html);
        Assert.Contains("Model &lt;b&gt;&amp; on german.csv", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>&", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<i>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<x>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<none>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("age<&>", html, StringComparison.Ordinal);
        Assert.Contains("2026-12-03 10:30 UTC", html, StringComparison.Ordinal);
        foreach (var section in new[] { "ROC", "Calibration", "Score distribution by class", "Score bands", "capture rate", "Feature importance", "Reasons for one row" })
        {
            Assert.Contains(section, html, StringComparison.Ordinal);
        }

        Assert.Contains("(AUC 0.500)", html, StringComparison.Ordinal);
        Assert.Contains("threshold 0.42", html, StringComparison.Ordinal);
        Assert.Equal(5, SvgCount().Count(html));
        // Ten bands, the last capturing every positive.
        Assert.Contains("<tr><td>10</td>", html, StringComparison.Ordinal);
        Assert.Contains("100.0%</td></tr>\n</table>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Binary_WithoutLabels_DrawsTheDistribution_AndBandsOfRowsOnly()
    {
        var (scores, _) = BinaryRows(2_000, seed: 2);
        var html = PredictionHtml.Render(new PredictionReportInput { Title = "batch", Task = "binary", Scores = scores, Threshold = 0.5 }, Generated);

        AssertSelfContained(html);
        Assert.Contains("without labels", html, StringComparison.Ordinal);
        Assert.Contains("Score distribution", html, StringComparison.Ordinal);
        Assert.Contains("Score bands", html, StringComparison.Ordinal);
        Assert.DoesNotContain("ROC", html, StringComparison.Ordinal);
        Assert.DoesNotContain("capture rate", html, StringComparison.Ordinal);
        Assert.Equal(1, SvgCount().Count(html));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Regression_DrawsPredictedAgainstActual_OnLogAxesOnlyWhenTheValuesSpanDecades(bool wide)
    {
        var random = new Random(3);
        var actual = Enumerable.Range(0, 20_000).Select(_ => wide ? Math.Exp(random.NextDouble() * 10) : 50 + random.NextDouble() * 10).ToArray();
        var predicted = actual.Select(a => a * Math.Exp(0.2 * (random.NextDouble() - 0.5))).ToArray();
        var html = PredictionHtml.Render(
            new PredictionReportInput { Title = "price", Task = "regression", Scores = predicted, Labels = actual, Baselines = [("mean", [.. actual.Select(_ => actual.Average())])] },
            Generated);

        AssertSelfContained(html);
        Assert.Contains("Predicted against actual", html, StringComparison.Ordinal);
        Assert.Contains("5,000 rows drawn at random", html, StringComparison.Ordinal);
        Assert.Contains("Deciles of the prediction", html, StringComparison.Ordinal);
        Assert.Contains("100.0%</td></tr>\n</table>", html, StringComparison.Ordinal);
        Assert.Equal(wide, html.Contains("Log-log axes", StringComparison.Ordinal));

        var unlabelled = PredictionHtml.Render(new PredictionReportInput { Title = "price", Task = "regression", Scores = predicted }, Generated);
        AssertSelfContained(unlabelled);
        Assert.Contains("Distribution of predictions", unlabelled, StringComparison.Ordinal);
        Assert.DoesNotContain("Deciles", unlabelled, StringComparison.Ordinal);
    }

    [Fact]
    public void Multiclass_ShowsTheConfusionMatrix_WithClassNames()
    {
        double[] labels = [0, 0, 1, 1, 2, 2, 2];
        int[] predicted = [0, 1, 1, 1, 2, 0, 2];
        var html = PredictionHtml.Render(
            new PredictionReportInput
            {
                Title = "iris",
                Task = "multiclass",
                Scores = [0.9, 0.5, 0.8, 0.7, 0.95, 0.4, 0.6],
                Labels = labels,
                PredictedClasses = predicted,
                ClassNames = ["setosa", "versicolor", "<virginica>"],
            },
            Generated);

        AssertSelfContained(html);
        Assert.Contains("Confusion matrix", html, StringComparison.Ordinal);
        Assert.Contains("Accuracy 71.4% of 7 rows", html, StringComparison.Ordinal);
        Assert.Contains("<th>&lt;virginica&gt;</th>", html, StringComparison.Ordinal);
        // The actual virginica row: one predicted setosa, none versicolor, two virginica; recall 2 of 3.
        Assert.Matches(@"<tr><th>&lt;virginica&gt;</th><td[^>]*>1</td><td[^>]*>0</td><td[^>]*>2</td><td>3</td><td>66.7%</td></tr>", html);
        Assert.Contains("Probability of the predicted class", html, StringComparison.Ordinal);

        var unlabelled = PredictionHtml.Render(new PredictionReportInput { Title = "iris", Task = "multiclass", Scores = [0.9, 0.5] }, Generated);
        AssertSelfContained(unlabelled);
        Assert.DoesNotContain("Confusion matrix", unlabelled, StringComparison.Ordinal);
    }

    [Fact]
    public void Reasons_DrawTheTwelveLargest_SumTheRest_AndListEveryFeature()
    {
        var contributions = Enumerable.Range(1, 15).Select(i => ($"f{i:D2}", i.ToString(System.Globalization.CultureInfo.InvariantCulture), (i % 2 == 0 ? 1 : -1) * i / 100.0)).ToArray();
        var html = PredictionHtml.Render(
            new PredictionReportInput
            {
                Title = "t",
                Task = "binary",
                Scores = [0.5],
                Importance = [.. Enumerable.Range(1, 30).Select(i => ($"feature{i:D2}", (double)i))],
                Example = new ReasonRow("row 3", 0.1, 0.1 + contributions.Sum(c => c.Item3), contributions),
            },
            Generated);

        // The three smallest (f01, f02, f03: -0.01 + 0.02 - 0.03) drawn as one bar; the table keeps all fifteen.
        Assert.Contains("other features (3)", html, StringComparison.Ordinal);
        Assert.Equal(15, Regex.Count(html, @"<tr><td>f\d\d</td>"));
        Assert.Contains("<tr><td>f15</td><td>15</td><td class=\"lowers\">-0.1500</td></tr>", html, StringComparison.Ordinal);
        Assert.Contains("<tr><td>f14</td><td>14</td><td class=\"raises\">+0.1400</td></tr>", html, StringComparison.Ordinal);
        Assert.Contains("the 20 largest of 30", html, StringComparison.Ordinal);
        Assert.Contains("feature30", html, StringComparison.Ordinal);
        Assert.Contains("feature11", html, StringComparison.Ordinal);
        Assert.DoesNotContain("feature10", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_RefusesAnUnknownTask_AndScoresAndLabelsOfDifferentLengths()
    {
        Assert.Throws<ArgumentException>(() => PredictionHtml.Render(new PredictionReportInput { Title = "t", Task = "ranking", Scores = [0.5] }, Generated));
        Assert.Throws<ArgumentException>(() => PredictionHtml.Render(new PredictionReportInput { Title = "t", Task = "binary", Scores = [0.5], Labels = [1, 0] }, Generated));
        Assert.Throws<ArgumentException>(() => PredictionHtml.Render(new PredictionReportInput { Title = "t", Task = "binary", Scores = [0.5], Labels = [2] }, Generated));
    }

    [Fact]
    public void Render_LeavesOutRowsWithAMissingScore()
    {
        var html = PredictionHtml.Render(new PredictionReportInput { Title = "t", Task = "binary", Scores = [0.2, double.NaN, 0.9, 0.4], Labels = [0, 1, 1, double.NaN] }, Generated);
        Assert.Contains("2 rows with a missing score or label are left out", html, StringComparison.Ordinal);
        Assert.Contains("(AUC 1.000)", html, StringComparison.Ordinal);
    }

    [Fact]
    public void AMillionBinaryRows_MakeAPageUnderFiveMegabytes()
    {
        var (scores, labels) = BinaryRows(1_000_000, seed: 4);
        var baseline = scores.Select(s => Math.Round(s, 2)).ToArray();
        var watch = Stopwatch.StartNew();
        var html = PredictionHtml.Render(
            new PredictionReportInput { Title = "big", Task = "binary", Scores = scores, Labels = labels, Baselines = [("rounded", baseline)], Threshold = 0.5 },
            Generated);
        watch.Stop();

        AssertSelfContained(html);
        Assert.True(html.Length < 5_000_000, $"{html.Length:N0} characters");
        // Not a timing assertion (benchmarks measure time): a generous bound that catches a quadratic step.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"{watch.Elapsed.TotalSeconds:F1} s");
        Assert.Contains("1,000,000 rows", html, StringComparison.Ordinal);
    }

    /// <summary>Scores uniform on [0, 1], each row positive with probability its score.</summary>
    private static (double[] Scores, double[] Labels) BinaryRows(int rows, int seed)
    {
        var random = new Random(seed);
        var scores = Enumerable.Range(0, rows).Select(_ => random.NextDouble()).ToArray();
        return (scores, [.. scores.Select(s => random.NextDouble() < s ? 1.0 : 0.0)]);
    }

    private static void AssertSelfContained(string html)
    {

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.EndsWith("</html>\n", html, StringComparison.Ordinal);
        Assert.Contains("<svg", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        // url() only names a clip path inside the page.
        Assert.All(Regex.Matches(html, @"url\((.)", RegexOptions.IgnoreCase), m => Assert.Equal("#", m.Groups[1].Value));
        // The only addresses are the SVG namespaces, which name a vocabulary and are never fetched.
        var addresses = Address().Matches(html).Select(m => m.Value).Distinct().ToArray();
        Assert.All(addresses, a => Assert.Contains(a, new[] { "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink" }));
        Assert.All(Address().Matches(html), m => Assert.Matches(@"xmlns(:\w+)?=""$", html[Math.Max(0, m.Index - 16)..m.Index]));
    }

    [GeneratedRegex(@"https?://[^""'\s)>]*", RegexOptions.IgnoreCase)]
    private static partial Regex Address();

    [GeneratedRegex("<svg")]
    private static partial Regex SvgCount();
}
