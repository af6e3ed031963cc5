using Lasthope.Text.EditNeed;

namespace Lasthope.Text.Tests;

/// <summary>Known answers for the evaluation: Spearman, the within-text highlights, the clustered paired difference.</summary>
public sealed class EditNeedEvaluationTests
{
    [Fact]
    public void Spearman_IsOneForAMonotoneMap_MinusOneReversed_AndAveragesTies()
    {
        double[] x = [1, 2, 3, 4, 5];
        Assert.Equal(1, EditNeedEvaluation.Spearman(x, [.. x.Select(v => Math.Exp(v))]), 12);
        Assert.Equal(-1, EditNeedEvaluation.Spearman(x, [.. x.Select(v => -v)]), 12);
        // Ranks of [0, 0, 1, 2] are [1.5, 1.5, 3, 4]; with [1, 2, 3, 4]: Pearson = 0.9486833.
        Assert.Equal(0.9486833, EditNeedEvaluation.Spearman([0, 0, 1, 2], [1, 2, 3, 4]), 6);
        Assert.True(double.IsNaN(EditNeedEvaluation.Spearman([1, 1, 1], [1, 2, 3])));
    }

    [Fact]
    public void Highlight_FlagsTheCeilingOfTheShare_TiesToTheEarlierUnit()
    {
        Assert.Equal([false, true, false, false, false], EditNeedModel.Highlight([0.1, 0.9, 0.2, 0.3, 0.4], 0.2));
        Assert.Equal(2, EditNeedModel.Highlight([0.1, 0.9, 0.2, 0.3, 0.4, 0.5, 0.6], 0.2).Count(f => f)); // ceil(1.4)
        Assert.Equal([true, false, false], EditNeedModel.Highlight([0.5, 0.5, 0.5], 0.2));
        Assert.Equal([true], EditNeedModel.Highlight([0.0], 0.2));
    }

    [Fact]
    public void Compare_GivesTheHandCountedPrecision_AndAZeroDifferenceForTheSameScores()
    {
        // Two documents of 5 sentences; relevant = rate above 0.3. A perfect model flags each text's top one (a hit);
        // the baseline flags the first unit (a hit in doc a, a miss in doc b).
        double[] rates = [0.5, 0, 0, 0.1, 0, 0, 0.2, 0.9, 0, 0];
        var units = rates.Select((r, i) => new EditNeedExample(i < 5 ? "a" : "b", i < 5 ? "a@1" : "b@1", i % 5, 5, "x", "y", r)).ToList();
        var perfect = new EditNeedScores("perfect", false, rates);
        var first = new EditNeedScores("first", true, [.. rates.Select((_, i) => i % 5 == 0 ? 1.0 : 0.0)]);
        var same = new EditNeedScores("same", false, [.. first.Predictions]);

        var c = EditNeedEvaluation.Compare(units, [first, perfect, same], relevantAbove: 0.3, highlightShare: 0.2, withinText: true, resamples: 200, seed: 1);

        Assert.Equal(2, c.Documents);
        Assert.Equal(0.2, c.RelevantShare, 12);
        Assert.Equal(0.5, c.Models[0].Precision.Estimate, 12);
        Assert.Equal(1.0, c.Models[1].Precision.Estimate, 12);
        Assert.Equal("first", c.BestBaseline);
        var d = c.Differences.Single(x => x.Name == "same");
        Assert.Equal((0.0, 0.0, 0.0), (d.Precision.Estimate, d.Precision.Lower, d.Precision.Upper));
        Assert.Contains("no better than first", d.Verdict, StringComparison.Ordinal);
    }
}
