using Lasthope.Text.EditNeed;
using Lasthope.Trees.Native;

namespace Lasthope.Cli.Commands;

/// <summary>Edit need's tree regressor: native LightGBM, squared error, early stopping on the validation documents.</summary>
internal sealed class EditNeedLightGbm(int threads) : IEditNeedRegressor
{
    public string Train(EditNeedMatrix train, EditNeedMatrix validation, IReadOnlyList<string> featureNames, int seed, CancellationToken cancellationToken) =>
        LightGbmTrainer.Train(Options(featureNames, seed, threads), Data(train), Data(validation), cancellationToken: cancellationToken).ModelText;

    /// <summary>Small trees, slow shrinkage and column sampling: a few thousand rows, up to some 700 columns with the encoder.</summary>
    internal static LightGbmTrainingOptions Options(IReadOnlyList<string> featureNames, int seed, int threads) => new()
    {
        Objective = LightGbmObjective.Regression,
        Iterations = 1000,
        LearningRate = 0.03,
        NumLeaves = 15,
        MinDataInLeaf = 20,
        FeatureFraction = 0.5,
        EarlyStoppingRounds = 50,
        FeatureNames = [.. featureNames],
        Threads = threads,
        Seed = seed,
    };

    internal static TrainingData Data(EditNeedMatrix m) => new(m.Features, m.Rows, m.Columns, m.Labels);
}
