using BenchmarkDotNet.Attributes;
using Lasthope.Trees;
using Lasthope.Trees.Native;

namespace Lasthope.Benchmarks.Trees;

/// <summary>
/// Scoring 1,000 documents of 300 features: Lasthope's evaluator against lib_lightgbm's own predict
/// (LGBM_BoosterPredictForMat, raw scores, num_threads=1) on the same model and data, in the same run, both on one
/// thread. The previous kernel (eight documents walking each tree in lockstep) runs beside the current one (the
/// bitvector kernel), on the same model. Run:
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
        _lockstep = TreeModel.FromLightGbm(text, Lasthope.Trees.Evaluation.TreeKernel.Lockstep);
        _booster = LightGbmBooster.FromString(text);
        _x = BenchmarkModels.Documents(BenchmarkModels.DocumentCount, seed: 99);
        _xf = [.. _x.Select(v => (float)v)];
        _scores = new double[BenchmarkModels.DocumentCount];

        // Refuse to time a wrong answer.
        var expected = new double[_scores.Length];
        _booster.Predict(_x, BenchmarkModels.DocumentCount, BenchmarkModels.Features, LightGbmPrediction.RawScore, expected, threads: 1);
        foreach (var model in new[] { _model, _lockstep })
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

    [Benchmark(Description = "lib_lightgbm PredictForMat (float, 1 thread)")]
    public void LightGbmFloat() =>
        _booster.Predict(_xf, BenchmarkModels.DocumentCount, BenchmarkModels.Features, LightGbmPrediction.RawScore, _scores, threads: 1);

    [Benchmark(Description = "Lasthope TreeModel.Score (double)")]
    public int LasthopeDouble() => _model.Score(_x, _scores);

    [Benchmark(Description = "Lasthope TreeModel.Score (float)")]
    public int LasthopeFloat() => _model.Score(_xf, _scores);

    [Benchmark(Description = "Lasthope, lockstep kernel (previous; double)")]
    public int LasthopeLockstep() => _lockstep.Score(_x, _scores);
}
