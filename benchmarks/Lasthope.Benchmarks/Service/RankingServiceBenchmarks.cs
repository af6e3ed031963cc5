using System.Globalization;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using Lasthope.Core.Events;
using Lasthope.Core.Storage;
using Lasthope.Server.Cascade;
using Lasthope.Server.Hosting;
using Lasthope.Server.Ingestion;
using Lasthope.Server.Models;
using Lasthope.Server.Ranking;
using Lasthope.Server.State;
using Lasthope.Trees.Native;
using Microsoft.Extensions.DependencyInjection;

namespace Lasthope.Benchmarks.Service;

/// <summary>
/// The whole rank path of the serving core, without HTTP: segment, policy, the heuristic over every candidate, and with
/// a model the features of the top K = 300 and a 500-tree, 63-leaf LambdaMART re-rank, then the served list, the
/// impression count, the feature and impression log and the metrics. The counters hold 30 days of 2,000 items in 11
/// segments; the store discards what it is given, so that only the request path is measured. The budget is generous:
/// every request is served by the model when there is one.
/// </summary>
[MemoryDiagnoser]
public class RankingServiceBenchmarks
{
    private LasthopeServer _server = null!;
    private RankingService _ranking = null!;
    private RankCommand[] _commands = [];
    private int _next;

    [Params(100, 1_000)]
    public int Candidates { get; set; }

    [Params(false, true)]
    public bool Model { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var now = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
        _server = LasthopeServer.StartAsync(new ServerSetup
        {
            Urls = "http://127.0.0.1:0",
            Store = new DiscardingStore(),
            Time = new FixedClock(now),
            Settings = new Dictionary<string, string?>
            {
                ["Lasthope:Serving:BudgetMs"] = "60000",
                ["Lasthope:Serving:ShedModelAboveWaitMs"] = "60000",
                ["Lasthope:Serving:RerankDepth"] = "300",
                ["Lasthope:Serving:Surfaces:home"] = "",
            },
        }).GetAwaiter().GetResult();
        var counters = _server.Services.GetRequiredService<CounterState>().Counters;
        var random = new Random(1);
        string[] segments = ["f:0-24", "f:25-34", "f:35-44", "f:45-54", "f:55+", "m:0-24", "m:25-34", "m:35-44", "m:45-54", "m:55+", "unknown"];
        for (var item = 0; item < 2_000; item++)
        {
            for (var day = 0; day < 30; day++)
            {
                foreach (var segment in segments)
                {
                    if (random.NextDouble() < 0.5)
                    {
                        counters.RecordImpression($"item-{item}", segment, now.AddDays(-day), 1 + random.Next(10));
                        if (random.NextDouble() < 0.1)
                        {
                            counters.RecordClick($"item-{item}", segment, now.AddDays(-day), 1, 1);
                        }
                    }
                }
            }
        }

        if (Model)
        {
            var registry = _server.Services.GetRequiredService<ModelRegistry>();
            var record = registry.RegisterAsync(System.Text.Encoding.UTF8.GetBytes(RankerModel()), "home", new ModelMetadata("bench"), CancellationToken.None).GetAwaiter().GetResult();
            registry.ActivateAsync("home", record.Version, CancellationToken.None).GetAwaiter().GetResult();
        }

        _ranking = _server.Services.GetRequiredService<RankingService>();
        _commands = [.. Enumerable.Range(0, 64).Select(r => new RankCommand
        {
            RequestId = "",
            Surface = "home",
            UserId = $"u{r}",
            Age = 20 + (r % 50),
            Gender = r % 2 == 0 ? "f" : "m",
            CandidateIds = [.. Enumerable.Range(0, Candidates).Select(i => $"item-{(i * 7 + r) % 2_100}").Distinct()],
            CandidateFeatures = new IReadOnlyDictionary<string, double>?[Candidates],
            Count = 10,
        })];
    }

    [GlobalCleanup]
    public void Cleanup() => _server.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark]
    public int Rank()
    {
        var template = _commands[_next++ & 63];
        var command = template with { RequestId = _next.ToString(CultureInfo.InvariantCulture) };
        return _ranking.RankAsync(command).AsTask().GetAwaiter().GetResult().Ranking.Items.Count;
    }

    /// <summary>500 trees of 63 leaves over the built-in features, trained once by native LightGBM and cached.</summary>
    internal static string RankerModel()
    {
        var path = Path.Combine(Path.GetTempPath(), "lasthope-bench-models", "ranker-builtin-500t-63l-v1.txt");
        if (File.Exists(path))
        {
            return File.ReadAllText(path);
        }

        var random = new Random(5);
        const int queries = 400, perQuery = 50;
        var columns = BuiltInFeatures.Count;
        var rows = queries * perQuery;
        var x = new double[rows * columns];
        var labels = new float[rows];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                x[(r * columns) + c] = random.NextDouble();
            }

            var utility = x[(r * columns) + 2] + (0.5 * x[(r * columns) + 5]) - (0.3 * x[(r * columns) + 10]) + (0.3 * random.NextDouble());
            labels[r] = utility > 1.1 ? 2 : utility > 0.7 ? 1 : 0;
        }

        var model = LightGbmTrainer.Train(
            new LightGbmTrainingOptions { Iterations = 500, NumLeaves = 63, MinDataInLeaf = 5, Threads = 2, Seed = 5, FeatureNames = BuiltInFeatures.Names, Parameters = new Dictionary<string, string> { ["verbosity"] = "-1" } },
            new TrainingData(x, rows, columns, labels) { Groups = Enumerable.Repeat(perQuery, queries).ToArray() }).ModelText;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, model);
        return model;
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    /// <summary>Takes every append and keeps nothing: the store is not on the request path, and must not grow here.</summary>
    private sealed class DiscardingStore : IEventStore, IModelStore
    {
        private readonly InMemoryEventStore _models = new();

        public string Name => "discard";

        public SkippedRecords Skipped { get; } = new();

        public Task AppendRankingsAsync(IReadOnlyList<RankingLog> rankings, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task<bool[]> AppendEventsAsync(IReadOnlyList<InteractionEvent> events, CancellationToken cancellationToken = default) => Task.FromResult(new bool[events.Count]);

        public Task<long[]> AppendEventsWithSequencesAsync(IReadOnlyList<InteractionEvent> events, CancellationToken cancellationToken = default) => Task.FromResult(new long[events.Count]);

        public Task<RankingLog?> FindRankingAsync(string requestId, CancellationToken cancellationToken = default) => Task.FromResult<RankingLog?>(null);

        public Task<string?> FindUserSegmentAsync(string userId, CancellationToken cancellationToken = default) => Task.FromResult<string?>(null);

        public Task<IReadOnlyList<InteractionEvent>> ReadUserEventsAsync(string userId, int limit, CancellationToken cancellationToken = default) => Task.FromResult<IReadOnlyList<InteractionEvent>>([]);

        public IAsyncEnumerable<LogEntry> ReadLogAsync(DateTimeOffset since, CancellationToken cancellationToken = default) => Empty<LogEntry>();

        public IAsyncEnumerable<CountingEntry> ReadCountingLogAsync(DateTimeOffset since, CancellationToken cancellationToken = default) => Empty<CountingEntry>();

        public IAsyncEnumerable<CountingEntry> ReadCountingLogAfterAsync(long afterSequence, int limit, CancellationToken cancellationToken = default) => Empty<CountingEntry>();

        public IAsyncEnumerable<InteractionEvent> ReadEventsAsync(DateTimeOffset since, CancellationToken cancellationToken = default) => Empty<InteractionEvent>();

        public Task<StoreCounts> CountAsync(CancellationToken cancellationToken = default) => Task.FromResult(default(StoreCounts));

        public Task<string?> GetSettingAsync(string key, CancellationToken cancellationToken = default) => Task.FromResult<string?>(null);

        public Task SetSettingAsync(string key, string value, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task SaveModelAsync(ModelRecord model, CancellationToken cancellationToken = default) => _models.SaveModelAsync(model, cancellationToken);

        public Task<ModelRecord?> FindModelAsync(string version, CancellationToken cancellationToken = default) => _models.FindModelAsync(version, cancellationToken);

        public Task<IReadOnlyList<ModelRecord>> ListModelsAsync(CancellationToken cancellationToken = default) => _models.ListModelsAsync(cancellationToken);

        public Task SetActiveModelAsync(string surface, string? version, CancellationToken cancellationToken = default) => _models.SetActiveModelAsync(surface, version, cancellationToken);

        public Task<IReadOnlyDictionary<string, string>> GetActiveModelsAsync(CancellationToken cancellationToken = default) => _models.GetActiveModelsAsync(cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

#pragma warning disable CS1998 // an empty log
        private static async IAsyncEnumerable<T> Empty<T>([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            yield break;
        }
#pragma warning restore CS1998
    }
}
