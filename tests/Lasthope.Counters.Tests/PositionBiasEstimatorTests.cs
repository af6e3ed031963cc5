using System.Globalization;
using Lasthope.Counters;
using Lasthope.Testing;

namespace Lasthope.Counters.Tests;

public class PositionBiasEstimatorTests
{
    [Fact]
    public void Estimate_RecoversAPlantedCurve_WhenGoodItemsSitAtGoodPositions()
    {
        // A ranked log: the better item is shown at position 1 more often. The pooled per-position CTR is then biased
        // (it mixes item quality into position), but conditioning on the item recovers the planted curve exactly.
        double[] planted = [1.0, 0.6, 0.3];
        double[] quality = [0.20, 0.10, 0.05];
        double[][] share = [[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.3, 0.6]];
        var estimator = new PositionBiasEstimator(10);
        for (var item = 0; item < 3; item++)
        {
            for (var p = 0; p < 3; p++)
            {
                var impressions = 100_000 * share[item][p];
                estimator.AddImpression($"i{item}", p + 1, impressions);
                estimator.AddClick($"i{item}", p + 1, impressions * quality[item] * planted[p]);
            }
        }

        var curve = estimator.Estimate();
        Assert.NotNull(curve);
        Assert.Equal(0.6, curve[2], 6);
        Assert.Equal(0.3, curve[3], 6);

        var direct = estimator.DirectRatio();
        Assert.NotNull(direct);
        Assert.True(Math.Abs(direct[3] - 0.3) > 0.05, "the pooled ratio should be biased on a ranked log");
    }

    [Theory]
    [InlineData("open-bandit/random/men/men.csv")]
    [InlineData("open-bandit/random/women/women.csv")]
    public void Estimate_OnOpenBanditRandomPolicy_MatchesTheCurveComputedDirectlyFromTheFile(string file)
    {
        var path = TestData.Require(file);
        var impressions = new double[3];
        var clicks = new double[3];
        var estimator = new PositionBiasEstimator(3);
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var cells = line.Split(',');
            var item = cells[2];
            var position = int.Parse(cells[3], CultureInfo.InvariantCulture);
            var click = cells[4] == "1";
            impressions[position - 1]++;
            estimator.AddImpression(item, position);
            if (click)
            {
                clicks[position - 1]++;
                estimator.AddClick(item, position);
            }
        }

        var curve = estimator.Estimate();
        Assert.NotNull(curve);
        for (var p = 2; p <= 3; p++)
        {
            var direct = clicks[p - 1] / impressions[p - 1] / (clicks[0] / impressions[0]);
            // Under uniformly random placement the item-conditioned estimate and the direct ratio estimate the same
            // curve; they differ only by how the few clicks fall on items. Allow 10% relative.
            Assert.InRange(curve[p], direct * 0.9, direct * 1.1);
        }
    }
}
