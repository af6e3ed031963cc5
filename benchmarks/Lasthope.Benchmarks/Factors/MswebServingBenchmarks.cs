using BenchmarkDotNet.Attributes;
using Lasthope.Factors;

namespace Lasthope.Benchmarks.Factors;

/// <summary>
/// Throughput on the real msweb data (32,711 users, 285 areas): top-10 for every user (seen items filtered) and the
/// 10 most similar items for every item, on one thread. Divide 1 by the per-operation time for requests per second
/// per core. The model uses the hyperparameters evaluate-recs --search chose (16 factors) and, for comparison, 64.
/// Needs the shared data (LASTHOPE_DATA, or ../shared/data above the repository); skipped with a message otherwise.
/// </summary>
[Config(typeof(FactorsBenchmarkConfig))]
public class MswebServingBenchmarks
{
    private readonly ScoredItem[] _top = new ScoredItem[10];
    private AlsModel _model = null!;

    [Params(16, 64)]
    public int Factors { get; set; }

    public int Users => _model.Users.Count;

    [GlobalSetup]
    public void Setup()
    {
        var path = DataFile("msweb/interactions_train.csv");
        var data = InteractionCsv.ReadFile(path).ToMatrix();
        _model = AlsTrainer.Train(data, new AlsOptions { Factors = Factors, Regularization = 1000f, Alpha = 100f, Iterations = 15 });
    }

    [Benchmark(Description = "top-10 for every msweb user", OperationsPerInvoke = 32_711)]
    public int RecommendEveryUser()
    {
        var total = 0;
        for (var u = 0; u < _model.Users.Count; u++)
        {
            total += _model.Recommend(u, _top);
        }

        return total;
    }

    [Benchmark(Description = "similar top-10 for every msweb item", OperationsPerInvoke = 294)]
    public int SimilarEveryItem()
    {
        var total = 0;
        for (var i = 0; i < _model.Items.Count; i++)
        {
            total += _model.Similar(i, _top);
        }

        return total;
    }

    internal static string DataFile(string relative)
    {
        var root = Environment.GetEnvironmentVariable("LASTHOPE_DATA");
        if (string.IsNullOrEmpty(root))
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Lasthope.slnx")))
                {
                    root = Path.Combine(dir.FullName, "..", "shared", "data");
                    break;
                }
            }
        }

        var path = Path.Combine(root ?? "/work/shared/data", relative);
        return File.Exists(path) ? path : throw new FileNotFoundException($"msweb data not found at {path}; set LASTHOPE_DATA.");
    }
}
