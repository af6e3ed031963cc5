using Lasthope.Trees.Native;

namespace Lasthope.Trees.Tests;

/// <summary>TreeSHAP against LightGBM's C_API_PREDICT_CONTRIB, and the additivity of both attributions.</summary>
public sealed class TreeShapTests(LambdarankFixture fixture) : IClassFixture<LambdarankFixture>
{
    [Theory]
    [InlineData(LightGbmObjective.Binary, false)]
    [InlineData(LightGbmObjective.Regression, true)]
    public void ShapValues_EqualLightGbmContributions_OnCategoricalAndMissingSplits(LightGbmObjective objective, bool zeroAsMissing)
    {
        var text = Synthetic.Train(objective, 3, zeroAsMissing: zeroAsMissing).ModelText;
        AssertShapMatchesLightGbm(text, Synthetic.EdgeRows(5), rows: 200);
    }

    [Fact]
    public void ShapValues_EqualLightGbmContributions_OnTheLambdarankExample()
    {
        AssertShapMatchesLightGbm(fixture.Result.ModelText, fixture.Test.Features, rows: 100);
    }

    [Fact]
    public void PathAttribution_AddsUpToTheRawScore_AndSharesShapsBias()
    {
        var model = TreeModel.FromLightGbm(fixture.Result.ModelText);
        var shap = new double[model.FeatureCount + 1];
        var path = new double[model.FeatureCount + 1];
        for (var r = 0; r < 50; r++)
        {
            var row = fixture.Test.Row(r);
            model.ExplainShap(row, shap);
            model.ExplainPath(row, path);

            Assert.Equal(model.Score(row), path.Sum(), 1e-9);
            Assert.Equal(shap[^1], path[^1], 1e-12);

            // Both credit only features the document's paths split on; SHAP's support contains the path's.
            for (var f = 0; f < model.FeatureCount; f++)
            {
                if (path[f] != 0)
                {
                    Assert.NotEqual(0, shap[f]);
                }
            }
        }
    }

    private static void AssertShapMatchesLightGbm(string modelText, double[] x, int rows)
    {
        var model = TreeModel.FromLightGbm(modelText);
        using var booster = LightGbmBooster.FromString(modelText);
        var width = model.FeatureCount + 1;
        rows = Math.Min(rows, x.Length / model.FeatureCount);
        var expected = booster.Predict(x.AsSpan(0, rows * model.FeatureCount), rows, model.FeatureCount, LightGbmPrediction.Contributions);
        var phi = new double[width];
        for (var r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * model.FeatureCount, model.FeatureCount);
            model.ExplainShap(row, phi);
            for (var f = 0; f < width; f++)
            {
                var e = expected[(r * width) + f];
                if (Math.Abs(phi[f] - e) > 1e-6 * Math.Max(1, Math.Abs(e)))
                {
                    Assert.Fail($"Row {r}, {(f == model.FeatureCount ? "bias" : $"feature {f}")}: Lasthope {phi[f]:R}, LightGBM {e:R}.");
                }
            }

            Assert.Equal(model.Score(row), phi.Sum(), 1e-9);
        }
    }
}
