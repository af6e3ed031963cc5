using BenchmarkDotNet.Attributes;
using Lasthope.Trees;
using Lasthope.Trees.Native;

namespace Lasthope.Benchmarks.Trees;

/// <summary>
/// The cost of explaining one document (exact TreeSHAP, and the cheap path attribution) and of loading a model, on the
/// 500-tree, 63-leaf model of <see cref="TreesScoringBenchmarks"/>. TreeSHAP is compared with lib_lightgbm's own
/// C_API_PREDICT_CONTRIB on one row, loading with LGBM_BoosterLoadModelFromString.
/// Run: <c>dotnet run -c Release --project benchmarks/Lasthope.Benchmarks -- --filter '*TreesExplainAndLoad*'</c>.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class TreesExplainAndLoadBenchmarks
{
    private string _text = "";
    private TreeModel _model = null!;
    private LightGbmBooster _booster = null!;
    private double[] _row = [];
    private double[] _contributions = [];

    [GlobalSetup]
    public void Setup()
    {
        _text = BenchmarkModels.Model(500, 63);
        _model = TreeModel.FromLightGbm(_text);
        _booster = LightGbmBooster.FromString(_text);
        _row = BenchmarkModels.Documents(1, seed: 99);
        _contributions = new double[_model.FeatureCount + 1];
    }

    [GlobalCleanup]
    public void Cleanup() => _booster.Dispose();

    [Benchmark(Description = "Lasthope TreeSHAP, 1 document")]
    public void LasthopeShap() => _model.ExplainShap(_row, _contributions);

    [Benchmark(Description = "lib_lightgbm PREDICT_CONTRIB, 1 document (1 thread)")]
    public void LightGbmShap() =>
        _booster.Predict(_row, 1, BenchmarkModels.Features, LightGbmPrediction.Contributions, _contributions, threads: 1);

    [Benchmark(Description = "Lasthope path attribution, 1 document")]
    public void LasthopePath() => _model.ExplainPath(_row, _contributions);

    [Benchmark(Description = "Lasthope load (parse + compile) 500x63 model")]
    public TreeModel LasthopeLoad() => TreeModel.FromLightGbm(_text);

    [Benchmark(Description = "lib_lightgbm LoadModelFromString 500x63 model")]
    public void LightGbmLoad()
    {
        using var booster = LightGbmBooster.FromString(_text);
    }
}
