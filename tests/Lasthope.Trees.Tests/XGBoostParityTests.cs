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
    public void SoftprobModel_ScoresEveryClassAsXGBoost_AndTransformsToItsProbabilities()
    {
        var model = TreeModel.Load(Fixture("multiclass-softprob.json"));
        var expected = Expected.Read(Fixture("multiclass-softprob.expected.json"));
        const int classes = 4;

        Assert.Equal(classes, model.ClassCount);
        Assert.Equal(OutputTransform.Softmax, model.OutputTransform);
        Assert.True(model.PredictsProbability);
        Assert.Equal(80, model.TreeCount);
        var raw = new double[expected.Rows * classes];
        Assert.Equal(expected.Rows, model.ScoreClasses(expected.X, raw));
        var probabilities = raw.ToArray();
        model.Transform(probabilities);
        var leaves = new int[model.TreeCount];
        for (var r = 0; r < expected.Rows; r++)
        {
            for (var k = 0; k < classes; k++)
            {
                // XGBoost sums and exponentiates in float32, Lasthope in double.
                var i = (r * classes) + k;
                Assert.Equal(expected.Margins[i], raw[i], 2e-6 * Math.Max(1, Math.Abs(expected.Margins[i])));
                Assert.Equal(expected.Predictions[i], probabilities[i], 2e-6);
            }

            Assert.Equal(1.0, probabilities.AsSpan(r * classes, classes).ToArray().Sum(), 1e-12);
            model.GetLeafIndices(expected.X.AsSpan(r * expected.Features, expected.Features), leaves);
            Assert.Equal(expected.Leaves[r], leaves);
        }
    }

    [Fact]
    public void SoftmaxModel_PredictsXGBoostsClass()
    {
        var model = TreeModel.Load(Fixture("multiclass-softmax.json"));
        var expected = Expected.Read(Fixture("multiclass-softmax.expected.json"));
        const int classes = 3;

        Assert.Equal(classes, model.ClassCount);
        Assert.Equal("multi:softmax", model.Objective);
        Assert.All(model.BaseScores, b => Assert.Equal(0.2, b, 1e-7));
        var raw = new double[expected.Rows * classes];
        model.ScoreClasses(expected.X, raw);
        for (var r = 0; r < expected.Rows; r++)
        {
            var scores = raw.AsSpan(r * classes, classes);
            for (var k = 0; k < classes; k++)
            {
                Assert.Equal(expected.Margins[(r * classes) + k], scores[k], 2e-6 * Math.Max(1, Math.Abs(scores[k])));
            }

            Assert.Equal((int)expected.Predictions[r], model.PredictClass(scores));
        }
    }

    [Theory]
    [InlineData("regression", 1)]
    [InlineData("multiclass-softprob", 4)]
    public void ShapValues_EqualXGBoostsContributions(string name, int classes)
    {
        // XGBoost's TreeSHAP accumulates in float32: agreement is to float precision.
        var model = TreeModel.Load(Fixture($"{name}.json"));
        var expected = Expected.Read(Fixture($"{name}.expected.json"));
        var width = model.FeatureCount + 1;
        var all = new double[classes * width];
        var one = new double[width];
        for (var r = 0; r < expected.Rows; r++)
        {
            var row = expected.X.AsSpan(r * expected.Features, expected.Features);
            model.ExplainShap(row, all);
            for (var i = 0; i < all.Length; i++)
            {
                var e = expected.Contributions![(r * all.Length) + i];
                Assert.Equal(e, all[i], 1e-5 * Math.Max(1, Math.Abs(e)));
            }

            for (var k = 0; k < classes; k++)
            {
                model.ExplainShap(row, k, one);
                Assert.Equal(all.AsSpan(k * width, width).ToArray(), one);
            }
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

    /// <summary>A fixture's inputs and XGBoost's outputs; per-class outputs are flattened row by row.</summary>
    private sealed record Expected(int Features, int Rows, double[] X, double[] Margins, double[] Predictions, int[][] Leaves, double[]? Contributions)
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
                Flat(root.GetProperty("margins")),
                Flat(root.GetProperty("predictions")),
                [.. root.GetProperty("leaves").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt32()).ToArray())],
                root.TryGetProperty("contributions", out var c) ? Flat(c) : null);
        }

        private static double[] Flat(JsonElement e) =>
            e.ValueKind == JsonValueKind.Array ? [.. e.EnumerateArray().SelectMany(Flat)] : [e.GetDouble()];
    }
}
