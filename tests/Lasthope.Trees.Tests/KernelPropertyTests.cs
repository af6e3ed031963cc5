using CsCheck;
using Lasthope.Trees.Evaluation;
using Lasthope.Trees.Native;

namespace Lasthope.Trees.Tests;

/// <summary>
/// Properties over random models (<see cref="RandomModels"/>) checked against lib_lightgbm on the same model text:
/// every kernel, at every vector width, scores to the bit as LightGBM does; TreeSHAP equals LightGBM's contributions
/// and the recursive algorithm's, and adds up to the raw score.
/// </summary>
public sealed class KernelPropertyTests
{
    private static readonly Gen<int> Seeds = Gen.Int[0, int.MaxValue];

    [Theory]
    [InlineData("rank", 512)]
    [InlineData("bitvector", 512)]
    [InlineData("bitvector", 256)]
    [InlineData("lockstep", 256)]
    [InlineData("general", 256)]
    public void EveryKernel_ScoresRandomModelsExactlyAsLightGbm(string kernelName, int bits)
    {
        TreeKernel? kernel = kernelName switch { "lockstep" => TreeKernel.Lockstep, "general" => TreeKernel.General, _ => null };
        var rank = kernelName == "rank";
        BitvectorWidth? width = rank ? null : bits == 512 ? BitvectorWidth.Vector512 : BitvectorWidth.Vector256;
        if (bits == 512 && (BitvectorKernels.Best != BitvectorWidth.Vector512 || (rank && !RankKernels.IsSupported)))
        {
            Assert.Skip("This machine has no AVX-512.");
        }

        Seeds.Sample(seed =>
        {
            var classes = seed % 4 == 0 ? 3 : 1;
            var text = RandomModels.Make(seed, trees: 1 + (seed % 7), maxLeaves: 90, classes);
            var model = kernel is { } k ? TreeModel.FromLightGbm(text, k) : TreeModel.FromLightGbm(text);

            // Random models use a few thresholds per feature and at most 90 leaves: the rank kernel always applies.
            Assert.Equal(rank, model.UsesRankKernel && width is null);
            using var booster = LightGbmBooster.FromString(text);
            var rows = 1 + (seed % 150);
            var x = RandomModels.Rows(seed, rows);
            var expected = booster.Predict(x, rows, RandomModels.Features, LightGbmPrediction.RawScore);
            var actual = new double[rows * classes];
            Assert.Equal(rows, model.ScoreCore<double>(x, actual, rows, default, width));
            for (var i = 0; i < actual.Length; i++)
            {
                if (BitConverter.DoubleToInt64Bits(expected[i]) != BitConverter.DoubleToInt64Bits(actual[i]))
                {
                    Assert.Fail($"seed {seed}, output {i}: Lasthope {actual[i]:R}, LightGBM {expected[i]:R}");
                }
            }
        }, iter: 150, threads: 1);
    }

    [Fact]
    public void TheCountedKernelChoice_ScoresExactlyAsLightGbmWhileCountingAndAfter_AndSettlesOnceTheSampleIsCounted()
    {
        var text = RandomModels.Make(seed: 11, trees: 6, maxLeaves: 40, classes: 1);
        var model = TreeModel.FromLightGbmWithoutRankKernel(text);
        using var booster = LightGbmBooster.FromString(text);
        const int rows = 100;
        var x = RandomModels.Rows(11, rows);
        var expected = booster.Predict(x, rows, RandomModels.Features, LightGbmPrediction.RawScore);
        Assert.Null(model.ScoringKernel);

        // Warm-up rows are scored exactly, by both kernels, and choose nothing.
        var actual = new double[rows];
        for (var w = 0; w < 4; w++)
        {
            Assert.Equal(rows, model.WarmUp(x, actual));
            Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), actual.Select(BitConverter.DoubleToInt64Bits));
        }

        Assert.Null(model.ScoringKernel);
        Assert.Equal((0.0, 0.0), model.KernelChoice!.Costs);
        var calls = (KernelChoice.SampleRows + rows - 1) / rows;
        for (var call = 0; call < calls + 2; call++)
        {
            Assert.Equal(call < calls, model.ScoringKernel is null);
            Array.Clear(actual);
            Assert.Equal(rows, model.Score(x, actual));
            Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), actual.Select(BitConverter.DoubleToInt64Bits));
        }

        var (lockstep, bitvector) = model.KernelChoice!.Costs;
        Assert.Equal(bitvector < lockstep ? TreeKernel.Bitvector : TreeKernel.Lockstep, model.ScoringKernel);
    }

    [Theory]
    [InlineData(-1.0, 1, "Lockstep")]
    [InlineData(1000.0, 59, "Bitvector")]
    public void TheCountedKernelChoice_CountsEachKernelsWork_AndTakesLockstepForShortPathsAndBitvectorForLongOnes(double value, int depth, string kernel)
    {
        // Chains of 60 leaves: node i sends x <= i to leaf i and the rest on, so x = -1 stops after one node and
        // x = 1000 walks all 59. The bitvector kernel tests the 59 nodes either way.
        const int trees = 8, leaves = 60, rows = KernelChoice.SampleRows;
        var model = TreeModel.FromLightGbmWithoutRankKernel(RandomModels.Chains(trees, leaves));
        var x = Enumerable.Repeat(value, rows * RandomModels.Features).ToArray();
        model.Score(x, new double[rows]);

        var (lockstep, bitvector) = model.KernelChoice!.Costs;
        Assert.Equal((double)trees * (rows / 8) * Math.Max(1, (depth + 1) / 2), lockstep);
        Assert.Equal(trees * (rows / 16) * (leaves - 1) * KernelChoice.NodeCost(BitvectorKernels.Best), bitvector, 9);
        Assert.Equal(Enum.Parse<TreeKernel>(kernel), model.ScoringKernel);
        var expected = Enumerable.Repeat(trees * (value < 0 ? 0.0 : leaves - 1.0), rows);
        var actual = new double[rows];
        model.Score(x, actual);
        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData(1, 300, 0.0, "a tree of 300 leaves")]
    [InlineData(10, 30, 0.01, "290 distinct thresholds on f0")]
    [InlineData(10, 26, 0.01, "250 distinct thresholds on f0")]
    public void TheRankKernel_TakesModelsWhoseRanksAndLeafNumbersAreBytes_AndOthersScoreExactlyWithoutIt(int trees, int leaves, double shift, string what)
    {
        // Ranks are bytes when a slot has at most 255 distinct thresholds, leaf numbers when a tree has at most 256 leaves.
        if (!RankKernels.IsSupported)
        {
            Assert.Skip("This machine has no AVX-512.");
        }

        var text = RandomModels.Chains(trees, leaves, shift);
        var model = TreeModel.FromLightGbm(text);
        Assert.True(model.UsesRankKernel == (leaves <= 256 && trees * (leaves - 1) <= 255), what);
        using var booster = LightGbmBooster.FromString(text);
        const int rows = 200;
        var random = new Random(5);
        var x = Enumerable.Range(0, rows * RandomModels.Features).Select(_ => random.NextDouble() < 0.1 ? double.NaN : (random.NextDouble() * 320) - 10).ToArray();
        for (var i = 0; i < 40; i++)
        {
            x[random.Next(rows) * RandomModels.Features] = Math.Round(random.NextDouble() * 30, 2); // on a threshold
        }

        var expected = booster.Predict(x, rows, RandomModels.Features, LightGbmPrediction.RawScore);
        var actual = new double[rows];
        Assert.Equal(rows, model.Score(x, actual));
        Assert.Equal(expected.Select(BitConverter.DoubleToInt64Bits), actual.Select(BitConverter.DoubleToInt64Bits));
    }

    [Fact]
    public void TreeShap_OnRandomModels_EqualsLightGbmAndTheRecursiveAlgorithm_AndAddsUpToTheRawScore()
    {
        var maxFromLightGbm = 0.0;
        var maxFromRecursive = 0.0;
        Seeds.Sample(seed =>
        {
            var classes = seed % 4 == 0 ? 3 : 1;
            var text = RandomModels.Make(seed, trees: 1 + (seed % 5), maxLeaves: 90, classes);
            var model = TreeModel.FromLightGbm(text);
            using var booster = LightGbmBooster.FromString(text);
            const int rows = 20;
            var x = RandomModels.Rows(seed, rows);
            var width = RandomModels.Features + 1;
            var expected = booster.Predict(x, rows, RandomModels.Features, LightGbmPrediction.Contributions);
            var raw = new double[rows * classes];
            model.ScoreClasses(x, raw);
            var phi = new double[classes * width];
            for (var r = 0; r < rows; r++)
            {
                var row = x.AsSpan(r * RandomModels.Features, RandomModels.Features);
                model.ExplainShap(row, phi);
                var recursive = RecursiveTreeShap.Explain(model, row);
                for (var i = 0; i < phi.Length; i++)
                {
                    var scale = Math.Max(1, Math.Abs(expected[(r * phi.Length) + i]));
                    maxFromLightGbm = Math.Max(maxFromLightGbm, Math.Abs(phi[i] - expected[(r * phi.Length) + i]) / scale);
                    maxFromRecursive = Math.Max(maxFromRecursive, Math.Abs(phi[i] - recursive[i]) / scale);
                }

                for (var k = 0; k < classes; k++)
                {
                    Assert.Equal(raw[(r * classes) + k], phi.AsSpan(k * width, width).ToArray().Sum(), 1e-9);
                }
            }
        }, iter: 150, threads: 1);

        Assert.True(maxFromLightGbm <= 1e-9, $"largest difference from LightGBM: {maxFromLightGbm:E2}");
        Assert.True(maxFromRecursive <= 1e-12, $"largest difference from the recursive algorithm: {maxFromRecursive:E2}");
    }

    [Fact]
    public void GaussLegendre_IntegratesPolynomialsUpToDegree2nMinus1()
    {
        // integral_0^1 u^k du = 1 / (k + 1): exact for k <= 2n - 1. For k = 2n the error, (n!)^4 / ((2n + 1) ((2n)!)^2),
        // is visible in double for the 4-point rule only (2.3e-5 there, below 1e-16 from 12 points on).
        foreach (var n in new[] { 4, 8, 12, 16 })
        {
            var rule = GaussLegendre.OnUnitInterval(n);
            for (var k = 0; k <= (n == 4 ? 2 * n : (2 * n) - 1); k++)
            {
                var sum = 0.0;
                for (var q = 0; q < n; q++)
                {
                    sum += rule.Weights[q] * Math.Pow(rule.Points[q], k);
                }

                if (k < 2 * n)
                {
                    Assert.Equal(1.0 / (k + 1), sum, 1e-14);
                }
                else
                {
                    Assert.NotEqual(1.0 / (k + 1), sum, 1e-6);
                }
            }
        }
    }
}
