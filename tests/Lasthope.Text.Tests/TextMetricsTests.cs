using Lasthope.Evaluation;

namespace Lasthope.Text.Tests;

/// <summary>Known answers of the evaluation on hand-made predictions.</summary>
public sealed class TextMetricsTests
{
    [Fact]
    public void Classification_OnAHandMadeExample_GivesItsAccuracyMacroF1PerClassAndConfusion()
    {
        // Truth a a b b c c; the model says a a b a a c. Class a: TP 2, predicted 4 -> P 0.5, R 1, F1 2/3.
        // Class b: TP 1, predicted 1 -> P 1, R 0.5, F1 2/3. Class c: TP 1, predicted 1 -> P 1, R 0.5, F1 2/3.
        string[] classes = ["a", "b", "c"];
        double[] labels = [0, 0, 1, 1, 2, 2];
        int[] said = [0, 0, 1, 0, 0, 2];
        var model = new ScoredModel("encoder", [.. said.SelectMany(k => Enumerable.Range(0, 3).Select(j => j == k ? 0.8 : 0.1))]);
        var prior = new ScoredModel("prior", [.. Enumerable.Range(0, 6).SelectMany(_ => new[] { 0.5, 0.25, 0.25 })]);

        var e = TextMetrics.Compare(TextTask.Classify, classes, labels, [model, prior], resamples: 200);

        Assert.Equal(4 / 6.0, e.Value("encoder", "accuracy").Estimate, 12);
        Assert.Equal(2 / 3.0, e.Value("encoder", "macro_f1").Estimate, 12);
        Assert.Equal(2 / 6.0, e.Value("prior", "accuracy").Estimate, 12); // always a
        Assert.Equal((2 * 2 / 8.0) / 3, e.Value("prior", "macro_f1").Estimate, 12); // F1(a) = 2*2/(6+2), b and c 0
        Assert.Equal(4 / 6.0 - 2 / 6.0, e.DifferenceOf("accuracy").Estimate, 12);
        var perClass = e.Models[0].PerClass;
        Assert.Equal([0.5, 1, 1], perClass.Select(c => c.Precision.Estimate));
        Assert.Equal([1, 0.5, 0.5], perClass.Select(c => c.Recall.Estimate));
        Assert.All(perClass, c => Assert.True(c.F1.Lower <= c.F1.Estimate && c.F1.Estimate <= c.F1.Upper && c.F1.Upper > c.F1.Lower, $"{c.Class}: {c.F1}"));
        // The prior says a always: F1 0.5 for a, 0 for b and c; the paired differences are 1/6, 2/3 and 2/3.
        Assert.Equal([2 / 3.0 - 0.5, 2 / 3.0, 2 / 3.0], e.ClassF1Difference.Select(d => Math.Round(d.Estimate, 12)), (x, y) => Math.Abs(x - y) < 1e-9);
        Assert.Equal(0.5, e.Models[1].PerClass[0].F1.Estimate, 12);
        Assert.Equal([2, 2, 2], perClass.Select(c => c.Support));
        Assert.Equal([[2, 0, 0], [1, 1, 0], [1, 0, 1]], e.Models[0].Confusion);
        Assert.Equal(said, e.Models[0].Predicted);
        Assert.Matches("^encoder is (better than|no better than|worse than) the", e.Verdict);
        var accuracy = e.Value("encoder", "accuracy");
        Assert.True(accuracy.Lower <= accuracy.Estimate && accuracy.Estimate <= accuracy.Upper);
    }

    [Fact]
    public void Regression_GivesSpearmanAndTheTopShareHits()
    {
        // Ten rows; the model ranks them perfectly (rho 1), the baseline in reverse (rho -1).
        double[] y = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        var model = new ScoredModel("encoder", [.. y.Select(v => v * 2)]);
        var reverse = new ScoredModel("tfidf", [.. y.Select(v => -v)]);
        var mean = new ScoredModel("prior", [.. y.Select(_ => 5.5)]);

        var e = TextMetrics.Compare(TextTask.Regress, [], y, [model, reverse, mean], resamples: 200);

        Assert.Equal(1.0, e.Value("encoder", "spearman").Estimate, 12);
        Assert.Equal(-1.0, e.Value("tfidf", "spearman").Estimate, 12);
        Assert.Equal(1.0, e.Value("encoder", "precision_top20").Estimate, 12); // the top 2 by prediction are the top 2 by truth
        Assert.Equal(0.0, e.Value("tfidf", "precision_top20").Estimate, 12);
        Assert.Equal("prior", e.BestBaseline); // by RMSE the constant beats the reversed baseline
        Assert.Equal(Math.Sqrt(y.Average(v => (v - 5.5) * (v - 5.5))), e.Value("prior", "rmse").Estimate, 12);
    }

    [Fact]
    public void Spearman_AveragesTiedRanks()
    {
        // y ranks 1 2 3 4; p = 1 1 2 2 ranks 1.5 1.5 3.5 3.5: rho = cov / sd = 2/sqrt(5*4) = 0.894427...
        Assert.Equal(2 / Math.Sqrt(5), TextMetrics.Spearman([1, 2, 3, 4], [1, 1, 2, 2], [0, 1, 2, 3]), 12);
    }

    [Fact]
    public void StratifiedSplit_HoldsOutAFifthOfEachClass_AndKeepsASingletonInTraining()
    {
        var labels = Enumerable.Repeat("a", 50).Concat(Enumerable.Repeat("b", 10)).Append("c").ToArray();

        var (train, test) = TextTraining.StratifiedSplit(labels, 0.2, seed: 7);

        Assert.Equal(10, test.Count(i => labels[i] == "a"));
        Assert.Equal(2, test.Count(i => labels[i] == "b"));
        Assert.DoesNotContain(test, i => labels[i] == "c");
        Assert.Equal(labels.Length, train.Length + test.Length);
        Assert.Empty(train.Intersect(test));
        Assert.Equal(test, TextTraining.StratifiedSplit(labels, 0.2, seed: 7).Test);
    }
}
