using BenchmarkDotNet.Attributes;
using Lasthope.Factors;

namespace Lasthope.Benchmarks.Factors;

/// <summary>
/// Training on the MovieLens-1M shape under BenchmarkDotNet: five iterations at 64 factors with the loss computed
/// (the larger shapes run through the program's --als-shapes mode, see AlsShapes).
/// </summary>
[Config(typeof(FactorsBenchmarkConfig))]
public class AlsIterationBenchmarks
{
    private InteractionMatrix _data = null!;

    [GlobalSetup]
    public void Setup()
    {
        _data = SyntheticInteractions.Generate(DataShape.MovieLens1M);
        _ = _data.ByItem;
    }

    [Benchmark(Description = "ALS 5 iterations, movielens-1m shape, 64 factors")]
    public AlsModel TrainFiveIterations() => AlsTrainer.Train(_data, new AlsOptions { Factors = 64, Iterations = 5 });
}
