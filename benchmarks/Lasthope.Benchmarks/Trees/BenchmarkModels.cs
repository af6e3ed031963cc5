using System.Globalization;
using Lasthope.Trees.Native;

namespace Lasthope.Benchmarks.Trees;

/// <summary>
/// The benchmark shape: documents of 300 dense features, and models of a given number of trees and leaves trained by
/// native LightGBM on synthetic data of that shape. Models are cached under the temp folder by shape and seed, because
/// BenchmarkDotNet runs each case in a new process.
/// </summary>
internal static class BenchmarkModels
{
    public const int Features = 300;
    public const int DocumentCount = 1000;

    /// <summary>Row-major documents, uniform in [0, 1) with a seed: the same in every process.</summary>
    public static double[] Documents(int count, int seed)
    {
        var random = new Random(seed);
        var x = new double[count * Features];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = random.NextDouble();
        }

        return x;
    }

    /// <summary>
    /// LightGBM model text of <paramref name="trees"/> trees of up to <paramref name="leaves"/> leaves: a regression, or
    /// with <paramref name="binary"/> a binary classifier of the same target's sign, or with <paramref name="classes"/> a
    /// softmax classifier of the target cut into that many bands (trees is then the number of iterations).
    /// </summary>
    public static string Model(int trees, int leaves, bool binary = false, int classes = 0)
    {
        var kind = classes > 1 ? $"multiclass{classes}" : binary ? "binary" : "regression";
        var path = Path.Combine(Path.GetTempPath(), "lasthope-bench-models", string.Create(CultureInfo.InvariantCulture, $"{kind}-{Features}f-{trees}t-{leaves}l-v1.txt"));
        if (File.Exists(path))
        {
            return File.ReadAllText(path);
        }

        // A target that needs many features and interactions, so trees grow to their leaf budget and use the columns.
        const int rows = 20_000;
        var x = Documents(rows, seed: 12345);
        var y = new float[rows];
        var random = new Random(7);
        for (var r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * Features, Features);
            double s = 0;
            for (var f = 0; f < Features; f += 3)
            {
                s += Math.Sin((row[f] * 6) + f) * (row[(f + 1) % Features] > 0.5 ? 1 : -0.5);
            }

            y[r] = (float)(s + (random.NextDouble() * 0.5));
            if (binary)
            {
                y[r] = y[r] > 0 ? 1 : 0;
            }
            else if (classes > 1)
            {
                // Classes of about equal size: the target's spread is a few units around 0.
                y[r] = Math.Clamp(MathF.Floor((y[r] / 2f) + (classes / 2f)), 0, classes - 1);
            }
        }

        var options = new LightGbmTrainingOptions
        {
            Objective = classes > 1 ? LightGbmObjective.Multiclass : binary ? LightGbmObjective.Binary : LightGbmObjective.Regression,
            ClassCount = classes,
            Iterations = trees,
            NumLeaves = leaves,
            MinDataInLeaf = 20,
            LearningRate = 0.05,
            Threads = 2,
            Seed = 1,
        };
        var text = LightGbmTrainer.Train(options, new TrainingData(x, rows, Features, y)).ModelText;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return text;
    }
}
