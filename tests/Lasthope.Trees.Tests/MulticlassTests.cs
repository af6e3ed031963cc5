using Lasthope.Trees.Native;

namespace Lasthope.Trees.Tests;

/// <summary>
/// LightGBM multiclass (softmax) and one-vs-all models against lib_lightgbm on the same rows: every class's raw score
/// bit for bit, the transformed probabilities, every leaf, and TreeSHAP and path attributions per class. The models
/// have categorical splits and every missing type (the columns of <see cref="Synthetic"/>).
/// </summary>
public sealed class MulticlassTests
{
    private const int Classes = 4;

    private static readonly Lazy<TrainingResult> Softmax = new(() => Train(LightGbmObjective.Multiclass));
    private static readonly Lazy<TrainingResult> OneVsAll = new(() => Train(LightGbmObjective.MulticlassOneVsAll));

    public static TrainingResult Model(LightGbmObjective objective) => objective == LightGbmObjective.Multiclass ? Softmax.Value : OneVsAll.Value;

    [Theory]
    [InlineData(LightGbmObjective.Multiclass, OutputTransform.Softmax)]
    [InlineData(LightGbmObjective.MulticlassOneVsAll, OutputTransform.Sigmoid)]
    public void MulticlassModel_ScoresEveryClassExactlyAsLightGbm(LightGbmObjective objective, OutputTransform transform)
    {
        var text = Model(objective).ModelText;
        var model = TreeModel.FromLightGbm(text);
        using var booster = LightGbmBooster.FromString(text);
        var x = Synthetic.EdgeRows(17);
        var rows = x.Length / model.FeatureCount;

        Assert.Equal(Classes, model.ClassCount);
        Assert.Equal(transform, model.OutputTransform);
        Assert.True(model.PredictsProbability);
        Assert.Equal(0, model.TreeCount % Classes);
        Assert.Equal(transform == OutputTransform.Sigmoid ? 1.5 : 1.0, model.SigmoidScale);
        Assert.Contains(ModelDecisionTypes(text), t => (t & 1) != 0);
        AssertSameBits(booster.Predict(x, rows, model.FeatureCount, LightGbmPrediction.RawScore), Raw(model, x), "raw score");

        var xf = x.Select(v => (float)v).ToArray();
        var expectedF = new double[rows * Classes];
        booster.Predict(xf, rows, model.FeatureCount, LightGbmPrediction.RawScore, expectedF);
        var actualF = new double[rows * Classes];
        Assert.Equal(rows, model.ScoreClasses(xf, actualF));
        AssertSameBits(expectedF, actualF, "raw score (float input)");
        Parity.AssertSameLeaves(model, booster, x);
    }

    [Theory]
    [InlineData(LightGbmObjective.Multiclass)]
    [InlineData(LightGbmObjective.MulticlassOneVsAll)]
    public void Probabilities_AreLightGbmsNormalPrediction(LightGbmObjective objective)
    {
        // Softmax and the sigmoid are computed as LightGBM computes them (the same operations in the same order, and
        // the C library's exp), so the probabilities are equal to the bit.
        var text = Model(objective).ModelText;
        var model = TreeModel.FromLightGbm(text);
        using var booster = LightGbmBooster.FromString(text);
        var x = Synthetic.EdgeRows(19);
        var rows = x.Length / model.FeatureCount;
        var probabilities = Raw(model, x);
        model.Transform(probabilities);

        AssertSameBits(booster.Predict(x, rows, model.FeatureCount, LightGbmPrediction.Normal), probabilities, "probability");
        if (objective == LightGbmObjective.Multiclass)
        {
            for (var r = 0; r < rows; r++)
            {
                Assert.Equal(1.0, probabilities.AsSpan(r * Classes, Classes).ToArray().Sum(), 1e-12);
            }
        }
    }

    [Fact]
    public void PredictedClass_IsTheLargestRawScore_AndSingleOutputScoringIsRefused()
    {
        var model = TreeModel.FromLightGbm(Softmax.Value.ModelText);
        var x = Synthetic.EdgeRows(23);
        var raw = Raw(model, x);
        for (var r = 0; r < 50; r++)
        {
            var scores = raw.AsSpan(r * Classes, Classes).ToArray();
            Assert.Equal(Array.IndexOf(scores, scores.Max()), model.PredictClass(scores));
        }

        Assert.Throws<InvalidOperationException>(() => model.Score(x, new double[10]));
        Assert.Throws<InvalidOperationException>(() => model.Transform(0.5));
        Assert.Throws<ArgumentException>(() => model.ScoreClasses(x, new double[(2 * Classes) + 1]));
    }

    [Theory]
    [InlineData(LightGbmObjective.Multiclass)]
    [InlineData(LightGbmObjective.MulticlassOneVsAll)]
    public void ShapValues_PerClass_EqualLightGbmContributions_AndAddUpToEachClassScore(LightGbmObjective objective)
    {
        var text = Model(objective).ModelText;
        var model = TreeModel.FromLightGbm(text);
        using var booster = LightGbmBooster.FromString(text);
        var x = Synthetic.EdgeRows(29);
        const int rows = 100;
        var width = model.FeatureCount + 1;
        var expected = booster.Predict(x.AsSpan(0, rows * model.FeatureCount), rows, model.FeatureCount, LightGbmPrediction.Contributions);
        var raw = Raw(model, x);
        var all = new double[Classes * width];
        var one = new double[width];
        var path = new double[Classes * width];
        var maxDifference = 0.0;
        for (var r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * model.FeatureCount, model.FeatureCount);
            model.ExplainShap(row, all);
            model.ExplainPath(row, path);
            for (var i = 0; i < all.Length; i++)
            {
                maxDifference = Math.Max(maxDifference, Math.Abs(all[i] - expected[(r * all.Length) + i]));
            }

            for (var k = 0; k < Classes; k++)
            {
                Assert.Equal(raw[(r * Classes) + k], all.AsSpan(k * width, width).ToArray().Sum(), 1e-9);
                Assert.Equal(raw[(r * Classes) + k], path.AsSpan(k * width, width).ToArray().Sum(), 1e-9);
                model.ExplainShap(row, k, one);
                Assert.Equal(all.AsSpan(k * width, width).ToArray(), one);
                model.ExplainPath(row, k, one);
                Assert.Equal(path.AsSpan(k * width, width).ToArray(), one);
            }
        }

        Assert.True(maxDifference <= 1e-9, $"largest difference from LightGBM's contributions: {maxDifference:E2}");
    }

    [Fact]
    public void MulticlassScoring_IsCancellableAndAllocatesNothing()
    {
        var model = TreeModel.FromLightGbm(Softmax.Value.ModelText);
        var x = Synthetic.EdgeRows(31);
        var rows = x.Length / model.FeatureCount;
        var scores = new double[rows * Classes];
        model.ScoreClasses(x, scores);

        var before = GC.GetAllocatedBytesForCurrentThread();
        model.ScoreClasses(x, scores);
        var after = GC.GetAllocatedBytesForCurrentThread();

        Assert.Equal(0, after - before);
        Assert.Equal(0, model.ScoreClasses(x, scores, new CancellationToken(canceled: true)));
    }

    private static TrainingResult Train(LightGbmObjective objective) =>
        Synthetic.Train(objective, seed: 13, extra: p => p["sigmoid"] = "1.5", classes: Classes);

    private static double[] Raw(TreeModel model, double[] x)
    {
        var rows = x.Length / model.FeatureCount;
        var raw = new double[rows * model.ClassCount];
        Assert.Equal(rows, model.ScoreClasses(x, raw));
        return raw;
    }

    private static HashSet<int> ModelDecisionTypes(string text) => LightGbmParityTests.DecisionTypes(text);

    private static void AssertSameBits(double[] expected, double[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            if (BitConverter.DoubleToInt64Bits(expected[i]) != BitConverter.DoubleToInt64Bits(actual[i]))
            {
                Assert.Fail($"Row {i / Classes}, class {i % Classes}: Lasthope's {what} {actual[i]:R}, LightGBM's {expected[i]:R}.");
            }
        }
    }
}
