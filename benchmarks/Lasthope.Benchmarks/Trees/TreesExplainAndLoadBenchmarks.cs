using BenchmarkDotNet.Attributes;
using Lasthope.Trees;
using Lasthope.Trees.Native;

namespace Lasthope.Benchmarks.Trees;

/// <summary>
/// The cost of explaining documents (exact TreeSHAP, and the cheap path attribution) and of loading a model, on a
/// 300-tree, 31-leaf binary model and the 500-tree, 63-leaf regression of <see cref="TreesScoringBenchmarks"/>.
/// TreeSHAP is compared with lib_lightgbm's own C_API_PREDICT_CONTRIB (LGBM_BoosterPredictForMat, num_threads=1) on
/// one row, and on 100 rows in one call (Lasthope explains them one by one), loading with
/// LGBM_BoosterLoadModelFromString. The setup refuses to run unless the contributions agree to 1e-9.
/// Run: <c>dotnet run -c Release --project benchmarks/Lasthope.Benchmarks -- --filter '*TreesExplainAndLoad*'</c>.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 15)]
public class TreesExplainAndLoadBenchmarks
{
    private const int Rows = 100;
    private string _text = "";
    private TreeModel _model = null!;
    private LightGbmBooster _booster = null!;
    private double[] _rows = [];
    private double[] _contributions = [];
    private double[] _batch = [];

    /// <summary>The model: objective, trees x leaves.</summary>
    [Params("binary 300x31", "regression 500x63")]
    public string Model { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var binary = Model.StartsWith("binary", StringComparison.Ordinal);
        _text = binary ? BenchmarkModels.Model(300, 31, binary: true) : BenchmarkModels.Model(500, 63);
        _model = TreeModel.FromLightGbm(_text);
        _booster = LightGbmBooster.FromString(_text);
        _rows = BenchmarkModels.Documents(Rows, seed: 99);
        _contributions = new double[_model.FeatureCount + 1];
        _batch = new double[Rows * (_model.FeatureCount + 1)];

        // Refuse to time a wrong answer.
        _booster.Predict(_rows, Rows, BenchmarkModels.Features, LightGbmPrediction.Contributions, _batch, threads: 1);
        for (var r = 0; r < Rows; r++)
        {
            _model.ExplainShap(_rows.AsSpan(r * BenchmarkModels.Features, BenchmarkModels.Features), _contributions);
            for (var f = 0; f < _contributions.Length; f++)
            {
                if (Math.Abs(_contributions[f] - _batch[(r * _contributions.Length) + f]) > 1e-9)
                {
                    throw new InvalidOperationException($"Lasthope's TreeSHAP differs from lib_lightgbm's at row {r}, feature {f}.");
                }
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _booster.Dispose();

    [Benchmark(Description = "Lasthope TreeSHAP, 1 document")]
    public void LasthopeShap() => _model.ExplainShap(_rows.AsSpan(0, BenchmarkModels.Features), _contributions);

    [Benchmark(Description = "lib_lightgbm PREDICT_CONTRIB, 1 document (1 thread)")]
    public void LightGbmShap() =>
        _booster.Predict(_rows.AsSpan(0, BenchmarkModels.Features), 1, BenchmarkModels.Features, LightGbmPrediction.Contributions, _contributions, threads: 1);

    [Benchmark(Description = "Lasthope TreeSHAP, 100 documents")]
    public void LasthopeShap100()
    {
        var width = _model.FeatureCount + 1;
        for (var r = 0; r < Rows; r++)
        {
            _model.ExplainShap(_rows.AsSpan(r * BenchmarkModels.Features, BenchmarkModels.Features), _batch.AsSpan(r * width, width));
        }
    }

    [Benchmark(Description = "lib_lightgbm PREDICT_CONTRIB, 100 documents in one call (1 thread)")]
    public void LightGbmShap100() =>
        _booster.Predict(_rows, Rows, BenchmarkModels.Features, LightGbmPrediction.Contributions, _batch, threads: 1);

    [Benchmark(Description = "Lasthope path attribution, 1 document")]
    public void LasthopePath() => _model.ExplainPath(_rows.AsSpan(0, BenchmarkModels.Features), _contributions);

    [Benchmark(Description = "Lasthope load (parse + compile)")]
    public TreeModel LasthopeLoad() => TreeModel.FromLightGbm(_text);

    [Benchmark(Description = "lib_lightgbm LoadModelFromString")]
    public void LightGbmLoad()
    {
        using var booster = LightGbmBooster.FromString(_text);
    }
}
