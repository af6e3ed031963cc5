using BenchmarkDotNet.Attributes;
using Lasthope.Trees;
using Lasthope.Trees.Native;

namespace Lasthope.Benchmarks.Trees;

/// <summary>
/// Scoring 1,000 documents of 300 features: Lasthope's evaluator against lib_lightgbm's own predict
/// (LGBM_BoosterPredictForMat, raw scores, num_threads=1) on the same model and data, in the same run, both on one
/// thread. The previous kernels run beside the current one (the rank kernel, which TreeModel.Score uses), on the same
/// model: the bitvector kernel (16 documents per node test on 64-bit keys) and, before it, eight documents walking each
/// tree in lockstep. Run:
/// <c>dotnet run -c Release --project benchmarks/Lasthope.Benchmarks -- --filter '*TreesScoring*'</c>.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 5, iterationCount: 15)]
public class TreesScoringBenchmarks
{
    private double[] _x = [];
    private float[] _xf = [];
    private double[] _scores = [];
    private TreeModel _model = null!;
    private TreeModel _bitvector = null!;
    private TreeModel _lockstep = null!;
    private LightGbmBooster _booster = null!;

    [Params(100, 500)]
    public int Trees { get; set; }

    [Params(31, 63)]
    public int Leaves { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var text = BenchmarkModels.Model(Trees, Leaves);
        _model = TreeModel.FromLightGbm(text);
        if (!_model.UsesRankKernel)
        {
            throw new InvalidOperationException("The rank kernel does not apply to this model or machine (AVX-512 is needed).");
        }

        _bitvector = TreeModel.FromLightGbm(text, Lasthope.Trees.Evaluation.TreeKernel.Bitvector);
        _lockstep = TreeModel.FromLightGbm(text, Lasthope.Trees.Evaluation.TreeKernel.Lockstep);
        _booster = LightGbmBooster.FromString(text);
        _x = BenchmarkModels.Documents(BenchmarkModels.DocumentCount, seed: 99);
        _xf = [.. _x.Select(v => (float)v)];
        _scores = new double[BenchmarkModels.DocumentCount];

        // Refuse to time a wrong answer.
        var expected = new double[_scores.Length];
        _booster.Predict(_x, BenchmarkModels.DocumentCount, BenchmarkModels.Features, LightGbmPrediction.RawScore, expected, threads: 1);
        foreach (var model in new[] { _model, _bitvector, _lockstep })
        {
            model.Score(_x, _scores);
            if (!expected.AsSpan().SequenceEqual(_scores))
            {
                throw new InvalidOperationException("Lasthope's scores differ from lib_lightgbm's.");
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _booster.Dispose();

    [Benchmark(Baseline = true, Description = "lib_lightgbm PredictForMat (double, 1 thread)")]
    public void LightGbmDouble() =>
        _booster.Predict(_x, BenchmarkModels.DocumentCount, BenchmarkModels.Features, LightGbmPrediction.RawScore, _scores, threads: 1);

    [Benchmark(Description = "Lasthope TreeModel.Score (rank kernel; double)")]
    public int LasthopeDouble() => _model.Score(_x, _scores);

    [Benchmark(Description = "Lasthope TreeModel.Score (rank kernel; float)")]
    public int LasthopeFloat() => _model.Score(_xf, _scores);

    [Benchmark(Description = "Lasthope, bitvector kernel (previous; double)")]
    public int LasthopeBitvector() => _bitvector.Score(_x, _scores);

    [Benchmark(Description = "Lasthope, lockstep kernel (before it; double)")]
    public int LasthopeLockstep() => _lockstep.Score(_x, _scores);
}
