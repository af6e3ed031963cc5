using BenchmarkDotNet.Attributes;
using Lasthope.Trees;

namespace Lasthope.Benchmarks.Trees;

/// <summary>
/// Lasthope scoring an XGBoost model of the benchmark shape (500 trees of up to 63 leaves, 300 features, 1,000
/// documents). scripts/xgboost/bench.py trains that model with XGBoost, writes it and the documents to the temp
/// folder, and times XGBoost's own single-threaded predict on them (a separate process: XGBoost is Python here).
/// Run the script first; without its files this benchmark refuses to start.
/// Run: <c>dotnet run -c Release --project benchmarks/Lasthope.Benchmarks -- --filter '*TreesXGBoost*'</c>.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 5, iterationCount: 15)]
public class TreesXGBoostBenchmarks
{
    private TreeModel _model = null!;
    private double[] _x = [];
    private double[] _scores = [];

    [GlobalSetup]
    public void Setup()
    {
        var folder = Path.Combine(Path.GetTempPath(), "lasthope-bench-models");
        var modelPath = Path.Combine(folder, "xgboost-300f-500t-63l.json");
        var dataPath = Path.Combine(folder, "xgboost-300f-docs.f64");
        if (!File.Exists(modelPath) || !File.Exists(dataPath))
        {
            throw new InvalidOperationException($"Run /usr/bin/python3 scripts/xgboost/bench.py first (it writes {modelPath}).");
        }

        _model = TreeModel.Load(modelPath);
        var bytes = File.ReadAllBytes(dataPath);
        _x = new double[bytes.Length / sizeof(double)];
        Buffer.BlockCopy(bytes, 0, _x, 0, bytes.Length);
        _scores = new double[_x.Length / _model.FeatureCount];
    }

    [Benchmark(Description = "Lasthope TreeModel.Score on the XGBoost model (double)")]
    public int LasthopeDouble() => _model.Score(_x, _scores);
}
