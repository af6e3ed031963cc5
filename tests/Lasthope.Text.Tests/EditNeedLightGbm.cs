using Lasthope.Text.EditNeed;
using Lasthope.Trees.Native;

namespace Lasthope.Text.Tests;

/// <summary>The tests' edit-need regressor: native LightGBM as the CLI trains it, fewer trees to stay fast.</summary>
internal sealed class EditNeedLightGbm : IEditNeedRegressor
{
    public string Train(EditNeedMatrix train, EditNeedMatrix validation, IReadOnlyList<string> featureNames, int seed, CancellationToken cancellationToken)
    {
        var options = new LightGbmTrainingOptions
        {
            Objective = LightGbmObjective.Regression,
            Iterations = 200,
            LearningRate = 0.05,
            NumLeaves = 15,
            FeatureFraction = 0.5,
            EarlyStoppingRounds = 30,
            FeatureNames = [.. featureNames],
            Threads = 2,
            Seed = seed,
        };
        return LightGbmTrainer.Train(options, new TrainingData(train.Features, train.Rows, train.Columns, train.Labels),
            new TrainingData(validation.Features, validation.Rows, validation.Columns, validation.Labels), cancellationToken: cancellationToken).ModelText;
    }
}

/// <summary>A deterministic stand-in for the sentence encoder: hashed character trigrams, unit length.</summary>
internal sealed class HashingEncoder(string name = "hashing-test", int dimensions = 16) : ITextEncoder
{
    public string Name => name;

    public int Dimensions => dimensions;

    public float[][] Encode(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) => [.. texts.Select(Vector)];

    private float[] Vector(string text)
    {
        var v = new float[dimensions];
        for (var i = 0; i + 3 <= text.Length; i++)
        {
            v[(int)((uint)string.GetHashCode(text.AsSpan(i, 3), StringComparison.Ordinal) % (uint)dimensions)] += 1;
        }

        var norm = MathF.Sqrt(v.Sum(x => x * x));
        return norm == 0 ? v : [.. v.Select(x => x / norm)];
    }
}
