using Lasthope.Server.Cascade;
using Lasthope.Trees.Native;

namespace Lasthope.Server.Tests;

/// <summary>Small LightGBM models over the built-in features, trained by the real native library for the tests.</summary>
internal static class TestModels
{
    private static readonly Lazy<string> Small = new(() => Train(trees: 20, leaves: 15, seed: 1, names: BuiltInFeatures.Names));

    private static readonly Lazy<string> Other = new(() => Train(trees: 25, leaves: 7, seed: 2, names: BuiltInFeatures.Names));

    /// <summary>20 trees of 15 leaves over the 12 built-in features, rewarding high CTR and penalising old items.</summary>
    public static string SmallModel => Small.Value;

    /// <summary>A different model over the same features (for swaps).</summary>
    public static string OtherModel => Other.Value;

    /// <summary>A model whose columns include a feature no surface provides.</summary>
    public static string WithUnknownFeature() => Train(trees: 5, leaves: 4, seed: 3, names: [.. BuiltInFeatures.Names.Take(3), "colour_of_the_sky"]);

    public static string Train(int trees, int leaves, int seed, IReadOnlyList<string> names)
    {
        var random = new Random(seed);
        const int queries = 200, perQuery = 20;
        var rows = queries * perQuery;
        var columns = names.Count;
        var features = new double[rows * columns];
        var labels = new float[rows];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                features[(r * columns) + c] = random.NextDouble();
            }

            var utility = features[(r * columns) + Math.Min(2, columns - 1)] - (0.3 * features[(r * columns) + (columns - 1)]) + (0.2 * random.NextDouble());
            labels[r] = utility > 0.8 ? 2 : utility > 0.5 ? 1 : 0;
        }

        var data = new TrainingData(features, rows, columns, labels) { Groups = Enumerable.Repeat(perQuery, queries).ToArray() };
        var options = new LightGbmTrainingOptions
        {
            Iterations = trees,
            NumLeaves = leaves,
            MinDataInLeaf = 5,
            Threads = 1,
            Seed = seed,
            FeatureNames = names,
            Parameters = new Dictionary<string, string> { ["verbosity"] = "-1" },
        };
        return LightGbmTrainer.Train(options, data).ModelText;
    }
}
