using System.Text;
using CsCheck;
using Lasthope.Trees.Native;

namespace Lasthope.Trees.Tests;

/// <summary>What the loaders accept, what they refuse, and that a damaged file never becomes a wrong model.</summary>
public sealed class ModelLoadingTests
{
    private static readonly Lazy<string> SmallModel = new(() => Synthetic.Train(LightGbmObjective.Binary, 21).ModelText);

    [Fact]
    public void LightGbmModel_ExposesItsMetadata()
    {
        var model = TreeModel.FromLightGbm(SmallModel.Value);

        Assert.Equal(ModelFormat.LightGbmText, model.Format);
        Assert.Equal("v4", model.FormatVersion);
        Assert.StartsWith("binary sigmoid:1", model.Objective, StringComparison.Ordinal);
        Assert.Equal(OutputTransform.Sigmoid, model.OutputTransform);
        Assert.Equal(Synthetic.Columns, model.FeatureCount);
        Assert.Equal(Synthetic.Columns, model.FeatureNames.Count);
        Assert.Equal(40, model.TreeCount);
        Assert.Matches("^sha256:[0-9a-f]{64}$", model.Fingerprint);
        Assert.Equal(model.Fingerprint, TreeModel.Parse(Encoding.UTF8.GetBytes(SmallModel.Value)).Fingerprint);
    }

    [Fact]
    public void BinaryModel_TransformIsLightGbmsSigmoid()
    {
        var model = TreeModel.FromLightGbm(SmallModel.Value);
        using var booster = LightGbmBooster.FromString(SmallModel.Value);
        var x = Synthetic.EdgeRows(3);
        var rows = x.Length / model.FeatureCount;
        var expected = booster.Predict(x, rows, model.FeatureCount, LightGbmPrediction.Normal);
        var scores = new double[rows];
        model.Score(x, scores);
        model.Transform(scores);

        for (var r = 0; r < rows; r++)
        {
            Assert.Equal(expected[r], scores[r], 1e-15);
        }
    }

    [Theory]
    [InlineData("dart")]
    [InlineData("rf")]
    public void DartAndRandomForestModels_LoadAndScoreExactlyAsLightGbm(string boosting)
    {
        // LightGBM's dart rescales trees while training; the saved trees are final, so dart predicts as a plain sum.
        // rf averages its trees (average_output in the header).
        var text = Synthetic.Train(LightGbmObjective.Regression, 5, p =>
        {
            p["boosting"] = boosting;
            p["bagging_freq"] = "1";
            p["bagging_fraction"] = "0.7";
        }).ModelText;
        var model = TreeModel.FromLightGbm(text);
        using var booster = LightGbmBooster.FromString(text);

        Assert.Equal(boosting, model.Boosting);
        Assert.Equal(boosting == "rf", model.AverageOutput);
        Parity.AssertSameRawScores(model, booster, Synthetic.EdgeRows(8));
    }

    [Fact]
    public void LinearTreeModel_IsRefusedByName()
    {
        var text = Synthetic.Train(LightGbmObjective.Regression, 5, p => p["linear_tree"] = "true").ModelText;

        var error = Assert.Throws<ModelLoadException>(() => TreeModel.FromLightGbm(text));
        Assert.Equal(ModelLoadError.Unsupported, error.Error);
        Assert.Contains("linear", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void MulticlassHeader_ThatDisagreesWithTheTrees_IsRejected()
    {
        var text = MulticlassTests.Model(LightGbmObjective.Multiclass).ModelText;

        var perIteration = Assert.Throws<ModelLoadException>(() => TreeModel.FromLightGbm(text.Replace("num_tree_per_iteration=4", "num_tree_per_iteration=1", StringComparison.Ordinal)));
        var objective = Assert.Throws<ModelLoadException>(() => TreeModel.FromLightGbm(text.Replace("num_class=4", "num_class=1", StringComparison.Ordinal).Replace("num_tree_per_iteration=4", "num_tree_per_iteration=1", StringComparison.Ordinal)));

        Assert.Equal(ModelLoadError.Corrupt, perIteration.Error);
        Assert.Contains("num_tree_per_iteration", perIteration.Message, StringComparison.Ordinal);
        Assert.Contains("multiclass", objective.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownFormatVersion_IsRefusedByName()
    {
        var text = SmallModel.Value.Replace("version=v4", "version=v2", StringComparison.Ordinal);

        var error = Assert.Throws<ModelLoadException>(() => TreeModel.FromLightGbm(text));
        Assert.Equal(ModelLoadError.Unsupported, error.Error);
        Assert.Contains("v2", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("refused-dart.json", "dart")]
    [InlineData("refused-gblinear.json", "gblinear")]
    public void UnsupportedXGBoostModels_AreRefusedByName(string file, string named)
    {
        var error = Assert.Throws<ModelLoadException>(() => TreeModel.Load(XGBoostParityTests.Fixture(file)));

        Assert.Equal(ModelLoadError.Unsupported, error.Error);
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TruncatedLightGbmModel_IsRejected_AtEveryCutInsideTheTrees()
    {
        var text = SmallModel.Value;
        var endOfTrees = text.IndexOf("end of trees", StringComparison.Ordinal);
        for (var cut = 0; cut < endOfTrees + "end of trees".Length - 1; cut += 13)
        {
            Assert.Throws<ModelLoadException>(() => TreeModel.FromLightGbm(text[..cut]));
        }
    }

    [Fact]
    public void TruncatedLightGbmModel_IsRejectedOrIdentical_WhereverItIsCut()
    {
        // After "end of trees" only metadata follows: a cut there may load, but only as the complete model.
        var text = SmallModel.Value;
        var full = TreeModel.FromLightGbm(text);
        var x = Synthetic.EdgeRows(4);
        var expected = new double[x.Length / full.FeatureCount];
        full.Score(x, expected);
        Gen.Int[0, text.Length - 1].Sample(cut =>
        {
            TreeModel model;
            try
            {
                model = TreeModel.FromLightGbm(text[..cut]);
            }
            catch (ModelLoadException)
            {
                return;
            }

            Assert.True(cut > text.IndexOf("end of trees", StringComparison.Ordinal), $"A cut at {cut} inside the trees loaded.");
            var scores = new double[expected.Length];
            model.Score(x, scores);
            Assert.Equal(expected, scores);
        }, iter: 300);
    }

    [Fact]
    public void TruncatedXGBoostModel_IsRejectedAsTruncated()
    {
        var bytes = File.ReadAllBytes(XGBoostParityTests.Fixture("binary.json"));
        Gen.Int[1, bytes.Length - 1].Sample(cut =>
        {
            var error = Assert.Throws<ModelLoadException>(() => TreeModel.FromXGBoostJson(bytes.AsSpan(0, cut)));
            Assert.Equal(ModelLoadError.Truncated, error.Error);
        }, iter: 200);
    }

    [Theory]
    [InlineData("left_child=", "left_child=99 ", "node 99")]
    [InlineData("split_feature=", "split_feature=4000 ", "feature 4000")]
    [InlineData("leaf_value=", "leaf_value=abc ", "'abc' is not a number")]
    [InlineData("threshold=", "threshold=nan ", "NaN")]
    public void CorruptLightGbmModel_IsRejectedWithTheReason(string field, string replacement, string reason)
    {
        // Damage the first tree's first value of the field.
        var text = SmallModel.Value;
        var at = text.IndexOf("Tree=0", StringComparison.Ordinal);
        var fieldAt = text.IndexOf("\n" + field, at, StringComparison.Ordinal) + 1;
        var valueEnd = text.IndexOf(' ', fieldAt);
        var damaged = string.Concat(text.AsSpan(0, fieldAt), replacement, text.AsSpan(valueEnd + 1));

        var error = Assert.Throws<ModelLoadException>(() => TreeModel.FromLightGbm(damaged));
        Assert.Equal(ModelLoadError.Corrupt, error.Error);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicatedChild_IsRejectedAsNotATree()
    {
        var text = SmallModel.Value;
        var at = text.IndexOf("\nright_child=", text.IndexOf("Tree=0", StringComparison.Ordinal), StringComparison.Ordinal) + 1;
        var leftLine = text[text.IndexOf("\nleft_child=", text.IndexOf("Tree=0", StringComparison.Ordinal), StringComparison.Ordinal)..].Split('\n')[1];
        var lineEnd = text.IndexOf('\n', at);
        var damaged = string.Concat(text.AsSpan(0, at), "right_child=" + leftLine["left_child=".Length..], text.AsSpan(lineEnd));

        var error = Assert.Throws<ModelLoadException>(() => TreeModel.FromLightGbm(damaged));
        Assert.Equal(ModelLoadError.Corrupt, error.Error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("hello world")]
    [InlineData("tree\nversion=v4\n")]
    public void NonModels_AreRejected(string content)
    {
        Assert.Throws<ModelLoadException>(() => TreeModel.Parse(Encoding.UTF8.GetBytes(content)));
    }
}

/// <summary>
/// A LightGBM v3 model in its minimal form (only the fields LightGBM's reader requires), the shape hand-written and
/// older models have: loads, scores as worked out by hand, and as lib_lightgbm scores it.
/// </summary>
public sealed class LightGbmV3ModelTests
{
    // Tree 0: x0 <= 1.5 ? 0.25 : -0.75. Tree 1: x1 <= 0.5 ? 1 : 2, missing type NaN with default left (decision_type 10).
    private const string Model = """
        tree
        version=v3
        num_class=1
        num_tree_per_iteration=1
        label_index=0
        max_feature_idx=1
        objective=regression
        feature_names=occupancy temperature
        feature_infos=[0:3] [0:1]

        Tree=0
        num_leaves=2
        num_cat=0
        split_feature=0
        split_gain=1
        threshold=1.5
        decision_type=0
        left_child=-1
        right_child=-2
        leaf_value=0.25 -0.75
        shrinkage=1


        Tree=1
        num_leaves=2
        num_cat=0
        split_feature=1
        split_gain=1
        threshold=0.5
        decision_type=10
        left_child=-1
        right_child=-2
        leaf_value=1 2
        shrinkage=1


        end of trees

        """;

    [Fact]
    public void MinimalV3Model_ScoresAsWorkedOutByHand_AndAsLightGbm()
    {
        var model = TreeModel.FromLightGbm(Model);
        double[] x = [1, 0, 1, 1, 2, 0, 2, double.NaN, double.NaN, 0.7];
        var scores = new double[5];
        model.Score(x, scores);

        Assert.Equal("v3", model.FormatVersion);
        Assert.Equal(["occupancy", "temperature"], model.FeatureNames);
        Assert.Equal([1.25, 2.25, 0.25, 0.25, 2.25], scores);
        Assert.False(model.HasCovers);
        Assert.Throws<InvalidOperationException>(() => model.ExplainShap(x.AsSpan(0, 2), new double[3]));
        using var booster = Lasthope.Trees.Native.LightGbmBooster.FromString(Model);
        Assert.Equal(booster.Predict(x, 5, 2, Lasthope.Trees.Native.LightGbmPrediction.RawScore), scores);
    }
}
