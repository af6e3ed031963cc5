using Lasthope.Trees.Native;

namespace Lasthope.Trees.Tests;

/// <summary>
/// Small data sets the tests train on, made to exercise every split rule: numerical features with NaN and exact zeros,
/// and categorical features with many categories (so bitsets span several words), negative and non-integer values.
/// </summary>
internal static class Synthetic
{
    public const int Columns = 8;

    /// <summary>Columns 0-1 are categorical (0..39 and 0..5), 2-7 numerical; in 2-5 some values are NaN, in 2-6 many exactly zero.</summary>
    /// <param name="rows">Rows to make.</param>
    /// <param name="seed">The generator's seed.</param>
    /// <param name="ranking">Graded labels 0-4 in query groups, else binary labels (or classes).</param>
    /// <param name="classes">With 2 or more, labels are classes 0 to classes - 1 of the same signal.</param>
    public static (double[] Features, float[] Labels, int[] Groups) Make(int rows, int seed, bool ranking, int classes = 0)
    {
        var random = new Random(seed);
        var x = new double[rows * Columns];
        var y = new float[rows];
        for (var r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * Columns, Columns);
            row[0] = random.Next(40);
            row[1] = random.Next(6);
            for (var c = 2; c < Columns; c++)
            {
                // Column 6 is never NaN (missing type None, or Zero with zero_as_missing); column 7 is never NaN nor 0.
                var u = random.NextDouble();
                row[c] = (u < 0.15 && c < 6) ? double.NaN : (u < 0.3 && c < 7) ? 0.0 : (random.NextDouble() * 4) - 1;
            }

            var signal = (row[0] % 7 < 3 ? 1.5 : -0.5) + (row[1] == 2 ? 1 : 0)
                + (double.IsNaN(row[2]) ? 1.2 : row[2]) + (row[3] == 0 ? -1 : Math.Sin(row[3] * 2))
                + (double.IsNaN(row[4]) ? -0.7 : row[4] * row[5] * 0.3) + (row[6] > 1 ? 0.8 : 0) + (row[7] < 0 ? -0.6 : 0) + (random.NextDouble() * 0.8);
            y[r] = classes > 1 ? (float)Math.Clamp(Math.Floor(signal * classes / 3.0), 0, classes - 1)
                : ranking ? (float)Math.Clamp(Math.Floor(signal + 1), 0, 4) : signal > 1 ? 1 : 0;
        }

        var groups = new List<int>();
        for (var left = rows; left > 0;)
        {
            var g = Math.Min(left, 5 + random.Next(20));
            groups.Add(g);
            left -= g;
        }

        return (x, y, [.. groups]);
    }

    /// <summary>Rows that probe the edges of the split rules: NaN, zeros, tiny values, negatives, huge and fractional categories.</summary>
    public static double[] EdgeRows(int seed)
    {
        var (x, _, _) = Make(400, seed, ranking: false);
        var random = new Random(seed + 1);
        double[] specials = [double.NaN, 0.0, -0.0, 1e-36, -1e-36, 1e-35, 2e-35, -1, -0.5, 0.5, 39.9, 40, 63, 64, 1e10, -1e10, 3.5, double.PositiveInfinity, double.NegativeInfinity];
        for (var i = 0; i < x.Length; i++)
        {
            if (random.NextDouble() < 0.2)
            {
                x[i] = specials[random.Next(specials.Length)];
            }
        }

        return x;
    }

    public static TrainingResult Train(LightGbmObjective objective, int seed, Action<Dictionary<string, string>>? extra = null, bool zeroAsMissing = false, int classes = 0)
    {
        var ranking = objective == LightGbmObjective.LambdaRank;
        var (x, y, groups) = Make(3000, seed, ranking, classes);
        var parameters = new Dictionary<string, string> { ["min_data_per_group"] = "10", ["cat_smooth"] = "1", ["max_cat_to_onehot"] = "4" };
        extra?.Invoke(parameters);
        var options = new LightGbmTrainingOptions
        {
            Objective = objective,
            Iterations = 40,
            NumLeaves = 15,
            MinDataInLeaf = 10,
            Threads = 1,
            Seed = seed,
            CategoricalFeatures = [0, 1],
            ZeroAsMissing = zeroAsMissing,
            ClassCount = classes,
            Parameters = parameters,
        };
        var data = new TrainingData(x, 3000, Columns, y) { Groups = ranking ? groups : default };
        return LightGbmTrainer.Train(options, data);
    }
}
