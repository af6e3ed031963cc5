using BenchmarkDotNet.Attributes;
using Lasthope.Factors;

namespace Lasthope.Benchmarks.Factors;

/// <summary>
/// One request of the keyword recommender over a large catalogue: top-10 by brute-force SIMD dot products over every
/// item, similar items by cosine, and the new-user path (exact fold-in of 20 interactions, then top-10). Random factors:
/// the cost does not depend on their values.
/// </summary>
[Config(typeof(FactorsBenchmarkConfig))]
public class AlsServingBenchmarks
{
    private readonly ScoredItem[] _top = new ScoredItem[10];
    private AlsModel _model = null!;
    private float[] _user = null!;
    private int[] _items = null!;
    private float[] _weights = null!;
    private float[] _folded = null!;

    [Params(30_000, 300_000)]
    public int Items { get; set; }

    [Params(64)]
    public int Factors { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        var itemFactors = new float[Items * Factors];
        for (var k = 0; k < itemFactors.Length; k++)
        {
            itemFactors[k] = (random.NextSingle() - 0.5f) * 0.2f;
        }

        _model = AlsModel.Create(IdMap.Empty, IdMap.Create(Enumerable.Range(0, Items).Select(i => "k" + i)), Factors, [], itemFactors, new AlsOptions { Regularization = 1f });
        _user = Enumerable.Range(0, Factors).Select(_ => random.NextSingle() - 0.5f).ToArray();
        _items = Enumerable.Range(0, 20).Select(_ => random.Next(Items)).Distinct().Order().ToArray();
        _weights = _items.Select(_ => 1f).ToArray();
        _folded = new float[Factors];
    }

    [Benchmark(Description = "recommend top-10 (brute force)")]
    public int Recommend() => _model.Recommend(_user, _top, default, _items);

    [Benchmark(Description = "similar top-10 (cosine)")]
    public int Similar() => _model.Similar(17, _top);

    [Benchmark(Description = "fold-in 20 interactions (exact)")]
    public float FoldIn()
    {
        _model.FoldIn(_items, _weights, _folded);
        return _folded[0];
    }

    [Benchmark(Description = "new user: fold-in 20 + top-10")]
    public int FoldInAndRecommend()
    {
        _model.FoldIn(_items, _weights, _folded);
        return _model.Recommend(_folded, _top, default, _items);
    }
}
