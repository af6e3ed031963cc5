using CsCheck;
using Lasthope.Evaluation;

namespace Lasthope.Evaluation.Tests;

public class TopKMetricsTests
{
    // Ranked list 3, 1, 7, 2, 9 against relevant {1, 2, 5}: hits at ranks 2 and 4.
    private static readonly int[] Ranked = [3, 1, 7, 2, 9];
    private static readonly int[] Relevant = [1, 2, 5];

    [Fact]
    public void Precision_DividesByK_ByDefault_AndByMinOfKAndRelevant_OnRequest()
    {
        Assert.Equal(2.0 / 5, TopKMetrics.Precision(Ranked, Relevant, 5));
        Assert.Equal(2.0 / 3, TopKMetrics.Precision(Ranked, Relevant, 5, PrecisionDenominator.MinKRelevant));
        Assert.Equal(0.5, TopKMetrics.Precision(Ranked, Relevant, 2));
        Assert.Equal(0.5, TopKMetrics.Precision(Ranked, Relevant, 2, PrecisionDenominator.MinKRelevant));
        Assert.Equal(0.0, TopKMetrics.Precision(Ranked, Relevant, 1));
    }

    [Fact]
    public void Recall_DividesByTheRelevantCount()
    {
        Assert.Equal(2.0 / 3, TopKMetrics.Recall(Ranked, Relevant, 5));
        Assert.Equal(1.0 / 3, TopKMetrics.Recall(Ranked, Relevant, 2));
    }

    [Fact]
    public void AveragePrecision_AveragesPrecisionAtEachHit_OverMinOfKAndRelevant()
    {
        Assert.Equal(((1.0 / 2) + (2.0 / 4)) / 3, TopKMetrics.AveragePrecision(Ranked, Relevant, 5), 12);
        Assert.Equal(0.5 / 2, TopKMetrics.AveragePrecision(Ranked, Relevant, 2), 12);
        Assert.Equal(1.0, TopKMetrics.AveragePrecision([5, 1, 2], Relevant, 3), 12);
    }

    [Fact]
    public void Ndcg_DiscountsHitsByLog2OfRankPlusOne_AgainstTheIdealList()
    {
        var dcg = (1 / Math.Log2(3)) + (1 / Math.Log2(5));
        var ideal = 1 + (1 / Math.Log2(3)) + (1 / Math.Log2(4));
        Assert.Equal(dcg / ideal, TopKMetrics.Ndcg(Ranked, Relevant, 5), 12);
        Assert.Equal(1 / Math.Log2(3) / (1 + (1 / Math.Log2(3))), TopKMetrics.Ndcg(Ranked, Relevant, 2), 12);
        Assert.Equal(1.0, TopKMetrics.Ndcg([2, 5, 1], Relevant, 3), 12);
    }

    [Fact]
    public void AShortList_CountsItsMissingPositionsAsMisses()
    {
        int[] relevant = [1, 2];
        Assert.Equal(1.0 / 3, TopKMetrics.Precision([1], relevant, 3));
        Assert.Equal(1.0 / 2, TopKMetrics.Precision([1], relevant, 3, PrecisionDenominator.MinKRelevant));
        Assert.Equal(0.5, TopKMetrics.Recall([1], relevant, 3));
        Assert.Equal(0.5, TopKMetrics.AveragePrecision([1], relevant, 3));
        Assert.Equal(1 / (1 + (1 / Math.Log2(3))), TopKMetrics.Ndcg([1], relevant, 3), 12);
    }

    [Fact]
    public void Coverage_CountsDistinctItemsInTheFirstK_OverTheCatalogue()
    {
        int[][] lists = [[1, 2], [2, 3], []];
        Assert.Equal(0.2, TopKMetrics.Coverage(lists, 1, 10));
        Assert.Equal(0.3, TopKMetrics.Coverage(lists, 2, 10));
    }

    [Fact]
    public void EveryMetric_IsZero_WhenNothingIsRelevant()
    {
        Assert.Equal(0, TopKMetrics.Precision(Ranked, [], 5));
        Assert.Equal(0, TopKMetrics.Recall(Ranked, [], 5));
        Assert.Equal(0, TopKMetrics.AveragePrecision(Ranked, [], 5));
        Assert.Equal(0, TopKMetrics.Ndcg(Ranked, [], 5));
    }

    [Fact]
    public void Metrics_StayInTheUnitInterval_AndTheMinDenominatorNeverLowersPrecision()
    {
        var gen = Gen.Select(Gen.Int[0, 30].Array[0, 15], Gen.Int[0, 30].Array[1, 10], Gen.Int[1, 20]);
        gen.Sample(t =>
        {
            var (rankedRaw, relevantRaw, k) = t;
            var ranked = rankedRaw.Distinct().ToArray();
            var relevant = relevantRaw.Distinct().Order().ToArray();
            var p = TopKMetrics.Precision(ranked, relevant, k);
            var pm = TopKMetrics.Precision(ranked, relevant, k, PrecisionDenominator.MinKRelevant);
            foreach (var v in new[] { p, pm, TopKMetrics.Recall(ranked, relevant, k), TopKMetrics.Ndcg(ranked, relevant, k), TopKMetrics.AveragePrecision(ranked, relevant, k) })
            {
                Assert.InRange(v, 0, 1);
            }

            Assert.True(pm >= p);
        });
    }
}
