using Lasthope.Trees.Native;

namespace Lasthope.Trees.Tests;

/// <summary>
/// The evaluator against lib_lightgbm itself: every document lands in the leaf LightGBM puts it in, and raw scores
/// are equal to the bit in double mode.
/// </summary>
public sealed class LightGbmParityTests
{
    [Theory]
    [InlineData(LightGbmObjective.LambdaRank, false)]
    [InlineData(LightGbmObjective.Binary, false)]
    [InlineData(LightGbmObjective.Regression, true)]
    [InlineData(LightGbmObjective.Binary, true)]
    public void CategoricalAndMissingSplits_LandInLightGbmsLeaves_AndScoreIdentically(LightGbmObjective objective, bool zeroAsMissing)
    {
        var trained = Synthetic.Train(objective, seed: 7, zeroAsMissing: zeroAsMissing);
        var model = TreeModel.FromLightGbm(trained.ModelText);
        using var booster = LightGbmBooster.FromString(trained.ModelText);
        var x = Synthetic.EdgeRows(11);

        Parity.AssertSameLeaves(model, booster, x);
        Parity.AssertSameRawScores(model, booster, x);
    }

    [Fact]
    public void TrainedModels_ContainCategoricalBitsetsAndEveryMissingType()
    {
        // The parity tests above only prove something if the models really contain these splits.
        var nanTypes = DecisionTypes(Synthetic.Train(LightGbmObjective.Binary, 7).ModelText);
        var zeroTypes = DecisionTypes(Synthetic.Train(LightGbmObjective.Binary, 7, zeroAsMissing: true).ModelText);

        Assert.Contains(nanTypes, t => (t & 1) != 0);
        Assert.Contains(nanTypes, t => (t & 1) == 0 && ((t >> 2) & 3) == 2 && (t & 2) != 0);
        Assert.Contains(nanTypes, t => (t & 1) == 0 && ((t >> 2) & 3) == 2 && (t & 2) == 0);
        Assert.Contains(nanTypes, t => (t & 1) == 0 && ((t >> 2) & 3) == 0);
        Assert.Contains(zeroTypes, t => (t & 1) == 0 && ((t >> 2) & 3) == 1);
    }

    internal static HashSet<int> DecisionTypes(string modelText) =>
        [.. modelText.Split('\n')
            .Where(l => l.StartsWith("decision_type=", StringComparison.Ordinal))
            .SelectMany(l => l["decision_type=".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(int.Parse)];
}

/// <summary>Assertions shared by the parity tests.</summary>
internal static class Parity
{
    public static void AssertSameLeaves(TreeModel model, LightGbmBooster booster, double[] x)
    {
        var rows = x.Length / model.FeatureCount;
        var expected = booster.Predict(x, rows, model.FeatureCount, LightGbmPrediction.LeafIndex);
        var leaves = new int[model.TreeCount];
        for (var r = 0; r < rows; r++)
        {
            model.GetLeafIndices(x.AsSpan(r * model.FeatureCount, model.FeatureCount), leaves);
            for (var t = 0; t < model.TreeCount; t++)
            {
                var lgbm = (int)expected[(r * model.TreeCount) + t];
                if (leaves[t] != lgbm)
                {
                    Assert.Fail($"Row {r}, tree {t}: Lasthope leaf {leaves[t]}, LightGBM leaf {lgbm}; row = [{string.Join(", ", x.AsSpan(r * model.FeatureCount, model.FeatureCount).ToArray())}]");
                }
            }
        }
    }

    public static void AssertSameRawScores(TreeModel model, LightGbmBooster booster, double[] x)
    {
        var rows = x.Length / model.FeatureCount;
        var expected = booster.Predict(x, rows, model.FeatureCount, LightGbmPrediction.RawScore);
        var actual = new double[rows];
        Assert.Equal(rows, model.Score(x, actual));
        for (var r = 0; r < rows; r++)
        {
            if (BitConverter.DoubleToInt64Bits(actual[r]) != BitConverter.DoubleToInt64Bits(expected[r]))
            {
                Assert.Fail($"Row {r}: Lasthope {actual[r]:R}, LightGBM {expected[r]:R}.");
            }
        }

        // Float inputs: the same values as floats give LightGBM's float-input scores exactly.
        var xf = x.Select(v => (float)v).ToArray();
        var expectedF = new double[rows];
        booster.Predict(xf, rows, model.FeatureCount, LightGbmPrediction.RawScore, expectedF);
        var actualF = new double[rows];
        Assert.Equal(rows, model.Score(xf, actualF));
        for (var r = 0; r < rows; r++)
        {
            if (BitConverter.DoubleToInt64Bits(actualF[r]) != BitConverter.DoubleToInt64Bits(expectedF[r]))
            {
                Assert.Fail($"Row {r} (float input): Lasthope {actualF[r]:R}, LightGBM {expectedF[r]:R}.");
            }
        }
    }
}
