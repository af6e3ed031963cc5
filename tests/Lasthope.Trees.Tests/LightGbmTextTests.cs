using Lasthope.Trees.Native;

namespace Lasthope.Trees.Tests;

/// <summary>The average of boosted models as one model: it scores the mean of the members, in Lasthope's evaluator and in LightGBM's.</summary>
public sealed class LightGbmTextTests
{
    [Fact]
    public void TheAverageOfThreeModels_ScoresTheMeanOfTheirScores()
    {
        var (x, y, g) = Synthetic.Make(2000, 41, ranking: true);
        var train = new TrainingData(x, 2000, Synthetic.Columns, y) { Groups = g };
        var members = Enumerable.Range(0, 3).Select(seed => LightGbmTrainer.Train(new LightGbmTrainingOptions
        {
            Objective = LightGbmObjective.LambdaRank,
            Iterations = 20 + (10 * seed),
            NumLeaves = 15,
            MinDataInLeaf = 5,
            BaggingFraction = 0.7,
            BaggingFrequency = 1,
            Threads = 1,
            Seed = seed,
        }, train).ModelText).ToList();

        var averaged = LightGbmText.Average(members);
        var (rows, _, _) = Synthetic.Make(500, 42, ranking: true);
        var mean = new double[500];
        foreach (var member in members)
        {
            var scores = new double[500];
            TreeModel.FromLightGbm(member).Score(rows, scores);
            for (var r = 0; r < 500; r++)
            {
                mean[r] += scores[r] / members.Count;
            }
        }

        var ours = new double[500];
        var model = TreeModel.FromLightGbm(averaged);
        model.Score(rows, ours);
        Assert.Equal(20 + 30 + 40, model.TreeCount);
        using var booster = LightGbmBooster.FromString(averaged);
        var native = booster.Predict(rows, 500, Synthetic.Columns, LightGbmPrediction.RawScore);
        for (var r = 0; r < 500; r++)
        {
            Assert.Equal(mean[r], ours[r], 1e-9);
            Assert.Equal(mean[r], native[r], 1e-9);
        }
    }

    [Fact]
    public void ModelsOverOtherFeatures_OrNone_AreRefused()
    {
        var (x, y, g) = Synthetic.Make(500, 43, ranking: true);
        var options = new LightGbmTrainingOptions { Objective = LightGbmObjective.LambdaRank, Iterations = 3, Threads = 1, Seed = 1 };
        var a = LightGbmTrainer.Train(options, new TrainingData(x, 500, Synthetic.Columns, y) { Groups = g }).ModelText;
        var b = LightGbmTrainer.Train(options with { FeatureNames = [.. Enumerable.Range(0, Synthetic.Columns).Select(i => $"other{i}")] }, new TrainingData(x, 500, Synthetic.Columns, y) { Groups = g }).ModelText;
        Assert.Throws<ArgumentException>(() => LightGbmText.Average([a, b]));
        Assert.Throws<ArgumentException>(() => LightGbmText.Average([]));
        Assert.Throws<ArgumentException>(() => LightGbmText.Average(["tree\nversion=v4\n"]));
    }
}
