using System.Text.Json;

namespace Lasthope.Trees.Tests;

/// <summary>
/// XGBoost models against XGBoost's own predictions, committed beside the models by scripts/xgboost/regenerate.py.
/// XGBoost accumulates in float32, Lasthope in double, so margins agree to float precision; leaves agree exactly.
/// </summary>
public sealed class XGBoostParityTests
{
    [Theory]
    [InlineData("binary", "binary:logistic", OutputTransform.Sigmoid)]
    [InlineData("regression", "reg:squarederror", OutputTransform.Identity)]
    [InlineData("ranking", "rank:ndcg", OutputTransform.Identity)]
    public void Model_LandsInXGBoostsLeaves_AndReproducesItsPredictions(string name, string objective, OutputTransform transform)
    {
        var model = TreeModel.Load(Fixture($"{name}.json"));
        var expected = Expected.Read(Fixture($"{name}.expected.json"));

        Assert.Equal(ModelFormat.XGBoostJson, model.Format);
        Assert.Equal(objective, model.Objective);
        Assert.Equal(transform, model.OutputTransform);
        Assert.Equal(expected.Features, model.FeatureCount);
        var scores = new double[expected.Rows];
        Assert.Equal(expected.Rows, model.Score(expected.X, scores));
        var leaves = new int[model.TreeCount];
        for (var r = 0; r < expected.Rows; r++)
        {
            Assert.Equal(expected.Margins[r], scores[r], 2e-6 * Math.Max(1, Math.Abs(expected.Margins[r])));
            Assert.Equal(expected.Predictions[r], model.Transform(scores[r]), 2e-6 * Math.Max(1, Math.Abs(expected.Predictions[r])));
            model.GetLeafIndices(expected.X.AsSpan(r * expected.Features, expected.Features), leaves);
            Assert.Equal(expected.Leaves[r], leaves);
        }
    }

    [Fact]
    public void FeatureNames_ComeFromTheModel()
    {
        var model = TreeModel.Load(Fixture("binary.json"));

        Assert.Equal(["f0", "f1", "f2", "f3", "f4", "f5"], model.FeatureNames);
    }

    [Fact]
    public void ShapValues_AddUpToXGBoostsMargin()
    {
        var model = TreeModel.Load(Fixture("regression.json"));
        var expected = Expected.Read(Fixture("regression.expected.json"));
        var phi = new double[model.FeatureCount + 1];
        for (var r = 0; r < 50; r++)
        {
            model.ExplainShap(expected.X.AsSpan(r * expected.Features, expected.Features), phi);

            Assert.Equal(expected.Margins[r], phi.Sum(), 2e-6 * Math.Max(1, Math.Abs(expected.Margins[r])));
        }
    }

    internal static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "xgboost", name);

    private sealed record Expected(int Features, int Rows, double[] X, double[] Margins, double[] Predictions, int[][] Leaves)
    {
        public static Expected Read(string path)
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = doc.RootElement;
            var features = root.GetProperty("features").GetInt32();
            var rows = root.GetProperty("rows").EnumerateArray().ToArray();
            var x = rows.SelectMany(r => r.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? double.NaN : v.GetDouble())).ToArray();
            return new Expected(
                features,
                rows.Length,
                x,
                [.. root.GetProperty("margins").EnumerateArray().Select(v => v.GetDouble())],
                [.. root.GetProperty("predictions").EnumerateArray().Select(v => v.GetDouble())],
                [.. root.GetProperty("leaves").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt32()).ToArray())]);
        }
    }
}
