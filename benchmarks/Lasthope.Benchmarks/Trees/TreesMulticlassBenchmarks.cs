using BenchmarkDotNet.Attributes;
using Lasthope.Trees;
using Lasthope.Trees.Native;

namespace Lasthope.Benchmarks.Trees;

/// <summary>
/// Scoring 1,000 documents of 300 features with a 5-class softmax model (100 iterations, so 500 trees of up to 31
/// leaves): Lasthope's ScoreClasses against lib_lightgbm's raw-score predict, and the softmax transform against
/// lib_lightgbm's normal prediction, same model and data, one thread each. The setup refuses to run unless both agree
/// bit for bit. Run: <c>dotnet run -c Release --project benchmarks/Lasthope.Benchmarks -- --filter '*TreesMulticlass*'</c>.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 5, iterationCount: 15)]
public class TreesMulticlassBenchmarks
{
    private const int Classes = 5;
    private double[] _x = [];
    private double[] _scores = [];
    private TreeModel _model = null!;
    private LightGbmBooster _booster = null!;

    [GlobalSetup]
    public void Setup()
    {
        var text = BenchmarkModels.Model(100, 31, classes: Classes);
        _model = TreeModel.FromLightGbm(text);
        _booster = LightGbmBooster.FromString(text);
        _x = BenchmarkModels.Documents(BenchmarkModels.DocumentCount, seed: 99);
        _scores = new double[BenchmarkModels.DocumentCount * Classes];
        foreach (var kind in new[] { LightGbmPrediction.RawScore, LightGbmPrediction.Normal })
        {
            var expected = new double[_scores.Length];
            _booster.Predict(_x, BenchmarkModels.DocumentCount, BenchmarkModels.Features, kind, expected, threads: 1);
            _model.ScoreClasses(_x, _scores);
            if (kind == LightGbmPrediction.Normal)
            {
                _model.Transform(_scores);
            }

            if (!expected.AsSpan().SequenceEqual(_scores))
            {
                throw new InvalidOperationException($"Lasthope's {kind} outputs differ from lib_lightgbm's.");
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _booster.Dispose();

    [Benchmark(Baseline = true, Description = "lib_lightgbm PredictForMat raw scores, 5 classes (1 thread)")]
    public void LightGbmRaw() =>
        _booster.Predict(_x, BenchmarkModels.DocumentCount, BenchmarkModels.Features, LightGbmPrediction.RawScore, _scores, threads: 1);

    [Benchmark(Description = "lib_lightgbm PredictForMat probabilities, 5 classes (1 thread)")]
    public void LightGbmNormal() =>
        _booster.Predict(_x, BenchmarkModels.DocumentCount, BenchmarkModels.Features, LightGbmPrediction.Normal, _scores, threads: 1);

    [Benchmark(Description = "Lasthope ScoreClasses, 5 classes")]
    public int LasthopeRaw() => _model.ScoreClasses(_x, _scores);

    [Benchmark(Description = "Lasthope ScoreClasses + Transform (softmax), 5 classes")]
    public void LasthopeProbabilities()
    {
        _model.ScoreClasses(_x, _scores);
        _model.Transform(_scores);
    }
}
