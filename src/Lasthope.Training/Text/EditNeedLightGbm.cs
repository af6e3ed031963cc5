using Lasthope.Text.EditNeed;
using Lasthope.Trees.Native;

namespace Lasthope.Training.Text;

/// <summary>
/// Edit need's tree regressor: native LightGBM, squared error, early stopping on the validation documents. Small
/// trees, slow shrinkage and column sampling: a few thousand rows, up to some 700 columns with the encoder.
/// </summary>
/// <param name="threads">LightGBM's threads.</param>
/// <param name="iterations">The most boosting rounds (early stopping usually ends sooner).</param>
public sealed class EditNeedLightGbm(int threads, int iterations = 1000) : IEditNeedRegressor
{
    public string Train(EditNeedMatrix train, EditNeedMatrix validation, IReadOnlyList<string> featureNames, int seed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        var options = new LightGbmTrainingOptions
        {
            Objective = LightGbmObjective.Regression,
            Iterations = iterations,
            LearningRate = 0.03,
            NumLeaves = 15,
            MinDataInLeaf = 20,
            FeatureFraction = 0.5,
            EarlyStoppingRounds = 50,
            FeatureNames = [.. featureNames],
            Threads = threads,
            Seed = seed,
        };
        return LightGbmTrainer.Train(options, Data(train), Data(validation), cancellationToken: cancellationToken).ModelText;
    }

    private static TrainingData Data(EditNeedMatrix m) => new(m.Features, m.Rows, m.Columns, m.Labels);
}
