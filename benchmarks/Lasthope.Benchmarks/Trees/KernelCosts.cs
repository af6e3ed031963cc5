using System.Diagnostics;
using System.Globalization;
using Lasthope.Benchmarks.Service;
using Lasthope.Trees;
using Lasthope.Trees.Evaluation;

namespace Lasthope.Benchmarks.Trees;

/// <summary>
/// <c>--kernel-costs</c>: the unit costs behind <see cref="KernelChoice"/>. The rank path's model (500 trees of 63
/// leaves, 12 features) scores rows whose paths are long (uniform in [0, 1], the training range) and short (uniform in
/// [0, 0.2] and [0, 0.05], like the ranker's served features); each kernel is timed alone, best of 8 rounds of 5
/// passes over 400 blocks of 64 rows, and the work is counted as <see cref="KernelChoice"/> counts it. When the cost
/// per counted unit is the same on every row set, counting predicts the clock; the table also shows what the counted
/// choice picks and which kernel the clock found faster. The rank kernel, which replaces the choice where it applies,
/// is timed beside them on the same rows.
/// </summary>
internal static unsafe class KernelCosts
{
    private const int Blocks = 400, Rounds = 8, Passes = 5;

    public static int Run()
    {
        var text = RankingServiceBenchmarks.RankerModel();
        var bitvector = TreeModel.FromLightGbm(text, TreeKernel.Bitvector);
        var lockstep = TreeModel.FromLightGbm(text, TreeKernel.Lockstep);
        Console.WriteLine("| rows | mean depth | lockstep iterations per 8 rows and tree | lockstep ns/row | bitvector 512 ns/row | bitvector 256 ns/row | ns per lockstep iteration | ns per bitvector node (512 / 256) | node / iteration (512 / 256) | counted choice | faster by the clock | rank kernel ns/row |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|");
        foreach (var scale in new[] { 1.0, 0.2, 0.05 })
        {
            var random = new Random(3);
            var rows = Enumerable.Range(0, Blocks).Select(_ =>
            {
                var r = new double[CompiledForest.BlockSize * bitvector.FeatureCount];
                for (var i = 0; i < r.Length; i++)
                {
                    r[i] = scale * random.NextDouble();
                }

                return r;
            }).ToList();
            Measure(string.Create(CultureInfo.InvariantCulture, $"uniform [0, {scale}]"), rows, text, bitvector, lockstep);
        }

        return 0;
    }

    private static void Measure(string name, List<double[]> blocks, string text, TreeModel bitvector, TreeModel lockstep)
    {
        // The work counted exactly as KernelChoice counts it, on the block's own keys.
        var forest = lockstep.Forest;
        long iterations = 0, depths = 0;
        var keys = new long[forest.SlotCount * CompiledForest.BlockSize];
        fixed (long* k = keys)
        {
            foreach (var block in blocks)
            {
                fixed (double* x = block)
                {
                    ForestKernels.PreprocessKeys(forest, x, forest.FeatureCount, CompiledForest.BlockSize, k, CompiledForest.KeyGroup);
                }

                for (var t = 0; t < forest.TreeCount; t++)
                {
                    iterations += KernelChoice.LockstepIterations(forest, t, k, CompiledForest.BlockSize);
                    for (var d = 0; d < CompiledForest.BlockSize; d++)
                    {
                        depths += KernelChoice.Depth(forest, t, k, d);
                    }
                }
            }
        }

        long nodes = 0;
        for (var t = 0; t < forest.TreeCount; t++)
        {
            nodes += forest.LeafStart[t] - forest.Root[t];
        }

        var rows = (long)blocks.Count * CompiledForest.BlockSize;
        var groups = rows / BitvectorKernels.GroupSize;
        var ns = new[] { Time(lockstep, blocks, null), Time(bitvector, blocks, BitvectorWidth.Vector512), Time(bitvector, blocks, BitvectorWidth.Vector256) };
        for (var round = 1; round < Rounds; round++)
        {
            ns[0] = Math.Min(ns[0], Time(lockstep, blocks, null));
            ns[1] = Math.Min(ns[1], Time(bitvector, blocks, BitvectorWidth.Vector512));
            ns[2] = Math.Min(ns[2], Time(bitvector, blocks, BitvectorWidth.Vector256));
        }

        var perIteration = ns[0] * rows / iterations;
        var perNode512 = ns[1] * rows / (groups * (double)nodes);
        var perNode256 = ns[2] * rows / (groups * (double)nodes);

        // The counted choice on the same rows, as the server makes it: a fresh model, fed blocks until it settles.
        var chosen = TreeModel.FromLightGbmWithoutRankKernel(text);
        var scores = new double[CompiledForest.BlockSize];
        for (var b = 0; chosen.ScoringKernel is null; b++)
        {
            chosen.Score(blocks[b], scores);
        }

        var fastest = ns[0] <= (Avx512Best ? ns[1] : ns[2]) ? "lockstep" : "bitvector";
        var ranked = TreeModel.FromLightGbm(text);
        var rank = ranked.UsesRankKernel ? Time(ranked, blocks, null) : double.NaN;
        for (var round = 1; round < Rounds && ranked.UsesRankKernel; round++)
        {
            rank = Math.Min(rank, Time(ranked, blocks, null));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {depths / (double)(rows * forest.TreeCount):F2} | {iterations * 8.0 / (rows * forest.TreeCount):F2} | {ns[0]:F0} | {ns[1]:F0} | {ns[2]:F0} | {perIteration:F2} | {perNode512:F3} / {perNode256:F3} | {perNode512 / perIteration:F3} / {perNode256 / perIteration:F3} | {chosen.ScoringKernel.ToString()!.ToLowerInvariant()} | {fastest} | {rank:F0} |"));
    }

    private static bool Avx512Best => BitvectorKernels.Best == BitvectorWidth.Vector512;

    /// <summary>Nanoseconds per row of <see cref="Passes"/> passes over the blocks, after one untimed pass.</summary>
    private static double Time(TreeModel model, List<double[]> blocks, BitvectorWidth? width)
    {
        var scores = new double[CompiledForest.BlockSize];
        foreach (var block in blocks)
        {
            model.ScoreCore<double>(block, scores, CompiledForest.BlockSize, CancellationToken.None, width);
        }

        var clock = Stopwatch.StartNew();
        for (var pass = 0; pass < Passes; pass++)
        {
            foreach (var block in blocks)
            {
                model.ScoreCore<double>(block, scores, CompiledForest.BlockSize, CancellationToken.None, width);
            }
        }

        return clock.Elapsed.TotalNanoseconds / (Passes * (double)blocks.Count * CompiledForest.BlockSize);
    }
}
