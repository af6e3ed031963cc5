using Lasthope.Testing;
using Lasthope.Trees.Data;
using Lasthope.Trees.Native;

namespace Lasthope.Trees.Tests;

/// <summary>
/// LightGBM's lambdarank example (../shared/data/lambdarank), trained once per test run with the example's parameters
/// (SOURCE.md: examples/lambdarank/train.conf).
/// </summary>
public sealed class LambdarankFixture
{
    private readonly Lazy<(DenseDataset Train, DenseDataset Test, TrainingResult Result)> _trained = new(() =>
    {
        var train = DenseDataset.ReadLibSvm(TestData.Require("lambdarank/rank.train"));
        var test = DenseDataset.ReadLibSvm(TestData.Require("lambdarank/rank.test"), train.Columns);
        var result = LightGbmTrainer.Train(ExampleOptions, ToTrainingData(train), ToTrainingData(test));
        return (train, test, result);
    });

    /// <summary>examples/lambdarank/train.conf, with an explicit thread count and seed.</summary>
    public static LightGbmTrainingOptions ExampleOptions { get; } = new()
    {
        Objective = LightGbmObjective.LambdaRank,
        Iterations = 100,
        NumLeaves = 31,
        LearningRate = 0.1,
        MaxBin = 255,
        MinDataInLeaf = 50,
        MinSumHessianInLeaf = 5.0,
        FeatureFraction = 1.0,
        BaggingFrequency = 1,
        BaggingFraction = 0.9,
        EvalAt = [1, 3, 5, 10],
        Threads = 2,
        Seed = 1,
    };

    public DenseDataset Train => _trained.Value.Train;

    public DenseDataset Test => _trained.Value.Test;

    public TrainingResult Result => _trained.Value.Result;

    public static TrainingData ToTrainingData(DenseDataset data) =>
        new(data.Features, data.Rows, data.Columns, data.Labels) { Groups = data.Groups };
}
