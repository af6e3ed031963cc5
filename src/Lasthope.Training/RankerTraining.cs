using System.Text.Json;
using Lasthope.Core.Storage;
using Lasthope.Evaluation;
using Lasthope.Server.Cascade;
using Lasthope.Server.Configuration;
using Lasthope.Server.Models;
using Lasthope.Server.State;
using Lasthope.Trees;
using Lasthope.Trees.Native;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lasthope.Training;

/// <summary>What to train: a surface's log window, the columns, LightGBM's settings, and what to do with the model.</summary>
public sealed record RankerTrainingRequest
{
    public required string Surface { get; init; }

    /// <summary>The columns; null for every built-in feature and the surface's request features.</summary>
    public IReadOnlyList<string>? Features { get; init; }

    /// <summary>Train on the last N days of the log (event time, up to its newest ranking of the surface).</summary>
    public double Days { get; init; } = 30;

    /// <summary>The latest share of queries, held out for validation and the comparison with the heuristic.</summary>
    public double ValidFraction { get; init; } = 0.2;

    public int Trees { get; init; } = 500;

    public int Leaves { get; init; } = 63;

    public double LearningRate { get; init; } = 0.05;

    public int MinDataInLeaf { get; init; } = 20;

    public int Threads { get; init; } = Environment.ProcessorCount;

    public int Seed { get; init; } = 42;

    /// <summary>
    /// Models averaged (1: one model). Above 1, each is trained on a bootstrap sample of the training queries with its
    /// own seed, and the model is their average (<see cref="LightGbmText.Average"/>): a bagged ensemble, steadier than
    /// any member, and as many times as costly to score.
    /// </summary>
    public int Bags { get; init; } = 1;

    /// <summary>Correct for position bias with the logged positions (LightGBM's position field).</summary>
    public bool UsePositions { get; init; } = true;

    /// <summary>Which logged rankings to learn from (<see cref="TrainingTraffic"/>).</summary>
    public TrainingTraffic Traffic { get; init; } = TrainingTraffic.Auto;

    /// <summary>Register the model in the store for the surface.</summary>
    public bool Register { get; init; }

    /// <summary>Register and activate it.</summary>
    public bool Activate { get; init; }
}

/// <summary>
/// Which logged rankings train the model. An explored list is a uniform draw from the top n' of the list, so which
/// items it showed and where are independent of the heuristic; within it every moved item has the same propensity
/// ε/n', so inverse-propensity weights are one constant per query, to which LambdaMART's pairwise gradients are
/// blind: weighting explored traffic is selecting it. The rest of the traffic shows only what the heuristic chose,
/// in its order, and its weights (1 / ((1 - ε) + ε/n')) would barely differ from 1, so it is left out rather than
/// weighted. Clicks still depend on position, corrected with the logged positions either way.
/// </summary>
public enum TrainingTraffic
{
    /// <summary>Explored rankings when at least <see cref="RankerTraining.MinimumQueries"/> of them have clicks, else all.</summary>
    Auto,

    /// <summary>Only explored rankings.</summary>
    Explored,

    /// <summary>Every ranking that logged features (biased toward the heuristic's choices and order).</summary>
    All,
}

/// <summary>One metric of the model beside the heuristic on the same validation queries, with the paired difference.</summary>
public sealed record MetricComparison(string Metric, Interval Model, Interval Heuristic, Interval Difference);

/// <summary>What training found and made.</summary>
public sealed record RankerTrainingReport(
    DateTimeOffset Since,
    int RankingsSeen,
    int RankingsWithoutFeatures,
    int QueriesUsed,
    int ValidationQueries,
    bool ExploredOnly,
    int ExploredQueries,
    IReadOnlyList<MetricComparison> Comparison,
    OffPolicyCheck OffPolicy,
    string ModelText,
    int TreesKept,
    ModelRecord? Registered,
    bool Activated);

/// <summary>
/// The model against the heuristic by off-policy estimates of CTR on the validation window's explored rankings
/// (<see cref="RerankPolicyEstimates"/>): unlike NDCG on logged clicks, it estimates what each would earn if it served.
/// </summary>
/// <param name="ValidationFrom">The event time the validation window starts at (no ranking from then trained the model).</param>
/// <param name="Estimate">The estimate, or null when the log cannot give one.</param>
/// <param name="Unavailable">Why not, when <paramref name="Estimate"/> is null.</param>
public sealed record OffPolicyCheck(DateTimeOffset ValidationFrom, RerankEstimateReport? Estimate, string? Unavailable);

/// <summary>Training could not start or finish; the message says why (not enough data, an unknown feature).</summary>
public sealed class RankerTrainingException(string message, bool notFound = false) : Exception(message)
{
    /// <summary>Nothing to train on was found at all (no rankings of the surface).</summary>
    public bool NotFound { get; } = notFound;
}

/// <summary>
/// Trains a LambdaMART re-ranker from what the server logged while serving: the feature vectors of the shown items and
/// the clicks attributed to them (<see cref="LoggedTrainingData"/>). The latest queries are held out; the model's
/// NDCG@1/3/5/10 is compared there with the heuristic it would replace, with bootstrap intervals and the paired
/// difference. On explored traffic (<see cref="TrainingTraffic"/>) that comparison is fair: the held-out lists are
/// random draws in random order, so their clicks favour neither order. On unexplored traffic, clicks logged under
/// the heuristic's own order favour the heuristic (position bias). The model is registered (and activated) in the
/// store on request.
/// </summary>
public sealed class RankerTraining(IEventStore store, ServingOptions serving)
{
    /// <summary>Fewer queries with clicks than this is not enough to train on.</summary>
    public const int MinimumQueries = 20;

    private static readonly int[] Cutoffs = [1, 3, 5, 10];
    private static readonly double[] LabelGain = [0, 1, 3];

    public async Task<RankerTrainingReport> TrainAsync(RankerTrainingRequest request, Action<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var surfaceOptions = serving.Surface(request.Surface);
        var available = BuiltInFeatures.Names.Concat(surfaceOptions.RequestFeatures).Concat(ContextFeatures.Of(surfaceOptions)).ToArray();
        var features = request.Features?.ToArray() ?? available;
        if (features.FirstOrDefault(f => !available.Contains(f, StringComparer.Ordinal)) is { } unknown)
        {
            throw new ArgumentException($"--features: '{unknown}' is not a feature of surface '{request.Surface}'; available: {string.Join(", ", available)}", nameof(request));
        }

        var newest = await LogWindow.NewestRankingAsync(store, request.Surface, cancellationToken)
            ?? throw new RankerTrainingException($"the store has no rankings of surface '{request.Surface}'", notFound: true);
        var since = newest - TimeSpan.FromDays(request.Days);
        var logged = await LoggedTrainingData.ReadAsync(store, request.Surface, features, since, cancellationToken);
        var useful = logged.Queries.Where(q => q.Labels.Any(l => l > 0) && q.Count > 1).ToList();
        var explored = useful.Where(q => q.Explored).ToList();
        var exploredOnly = request.Traffic == TrainingTraffic.Explored || (request.Traffic == TrainingTraffic.Auto && explored.Count >= MinimumQueries);
        if (exploredOnly)
        {
            useful = explored;
        }

        if (useful.Count < MinimumQueries)
        {
            throw new RankerTrainingException($"{useful.Count} logged{(exploredOnly ? " explored" : "")} rankings with clicks since {since:u}: fewer than {MinimumQueries}, not enough to train on");
        }

        var cut = (int)Math.Round(useful.Count * (1 - request.ValidFraction));
        var lightGbm = new LightGbmTrainingOptions
        {
            Objective = LightGbmObjective.LambdaRank,
            Iterations = request.Trees,
            NumLeaves = request.Leaves,
            LearningRate = request.LearningRate,
            MinDataInLeaf = request.MinDataInLeaf,
            Threads = request.Threads,
            Seed = request.Seed,
            FeatureNames = features,
            LabelGain = LabelGain,
            EvalAt = Cutoffs,
            Parameters = new Dictionary<string, string> { ["verbosity"] = "-1" },
        };
        var validation = ToTrainingData(useful[cut..], features.Length, request.UsePositions);
        var result = request.Bags <= 1
            ? LightGbmTrainer.Train(lightGbm, ToTrainingData(useful[..cut], features.Length, request.UsePositions), validation, progress, cancellationToken)
            : Bagged(request, lightGbm, useful[..cut], features.Length, validation, progress, cancellationToken);
        var model = TreeModel.FromLightGbm(result.ModelText);
        var comparison = Compare(model, useful[cut..], features);
        var validationFrom = cut < useful.Count ? useful[cut].Time : newest;
        var offPolicy = await OffPolicyAsync(store, request.Surface, RerankPolicy.Model(model, "model"), RerankPolicy.Heuristic, validationFrom, cancellationToken);
        var report = new RankerTrainingReport(since, logged.RankingsSeen, logged.RankingsWithoutFeatures, useful.Count, useful.Count - cut, exploredOnly, explored.Count, comparison, offPolicy, result.ModelText, result.IterationsKept, null, false);
        if (request.Register || request.Activate)
        {
            var registered = await RegisterAsync(request, report, useful[0].Time, useful[cut - 1].Time, null, request.Activate, cancellationToken);
            report = report with { Registered = registered, Activated = request.Activate };
        }

        return report;
    }

    /// <summary>NDCG@k of the model and of the heuristic on the same validation queries, with the paired difference.</summary>
    public static IReadOnlyList<MetricComparison> Compare(TreeModel model, IReadOnlyList<LoggedQuery> queries, IReadOnlyList<string> features)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(features);
        var heuristicColumn = features.ToList().IndexOf(BuiltInFeatures.HeuristicScore);
        var results = new List<MetricComparison>();
        foreach (var k in Cutoffs)
        {
            var m = new double[queries.Count];
            var h = new double[queries.Count];
            for (var q = 0; q < queries.Count; q++)
            {
                var query = queries[q];
                var labels = query.Labels.Select(l => (int)l).ToArray();
                var scores = new double[query.Count];
                model.Score(query.Rows, scores);
                m[q] = Ndcg.AtK(scores, labels, k, LabelGain);

                // The heuristic's own order: its logged score, or, without that column, the order it served in.
                var heuristic = Enumerable.Range(0, query.Count).Select(r => heuristicColumn >= 0 ? query.Rows[(r * features.Count) + heuristicColumn] : -query.Positions[r]).ToArray();
                h[q] = Ndcg.AtK(heuristic, labels, k, LabelGain);
            }

            results.Add(new MetricComparison($"ndcg@{k}", Bootstrap.MeanInterval(m), Bootstrap.MeanInterval(h), Bootstrap.MeanDifferenceInterval(m, h)));
        }

        return results;
    }

    /// <summary>The candidate against the baseline on the explored rankings from <paramref name="from"/>, or why the log cannot say.</summary>
    public static async Task<OffPolicyCheck> OffPolicyAsync(IEventStore store, string surface, RerankPolicy candidate, RerankPolicy baseline, DateTimeOffset from, CancellationToken cancellationToken)
    {
        try
        {
            var estimate = await new RerankPolicyEstimates(store).CompareAsync(
                new RerankEstimateRequest { Surface = surface, Candidate = candidate, Baseline = baseline, Since = from },
                cancellationToken);
            return new OffPolicyCheck(from, estimate, null);
        }
        catch (PolicyEstimateException e)
        {
            return new OffPolicyCheck(from, null, e.Message);
        }
    }

    /// <summary>
    /// Registers a trained model for the request's surface with its parameters and metrics (NDCG on the validation
    /// queries, the off-policy CTR estimate, and what <paramref name="extra"/> adds), and activates it when asked.
    /// </summary>
    internal async Task<ModelRecord> RegisterAsync(RankerTrainingRequest request, RankerTrainingReport report, DateTimeOffset from, DateTimeOffset to, IReadOnlyDictionary<string, object>? extra, bool activate, CancellationToken cancellationToken)
    {
        var registry = new ModelRegistry(StoreSelection(store), serving, new RecentRankings(0), TimeProvider.System, NullLogger.Instance);
        var metrics = new Dictionary<string, object>();
        foreach (var c in report.Comparison)
        {
            metrics[c.Metric] = new Dictionary<string, double>
            {
                ["model"] = c.Model.Estimate, ["modelLower"] = c.Model.Lower, ["modelUpper"] = c.Model.Upper, ["heuristic"] = c.Heuristic.Estimate,
                ["difference"] = c.Difference.Estimate, ["differenceLower"] = c.Difference.Lower, ["differenceUpper"] = c.Difference.Upper,
            };
        }

        if (report.OffPolicy.Estimate is { } ope)
        {
            metrics["ctr_dr"] = OffPolicyFigures(ope);
        }

        foreach (var (key, value) in extra ?? new Dictionary<string, object>())
        {
            metrics[key] = value;
        }

        var parameters = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["trees"] = request.Trees, ["leaves"] = request.Leaves, ["learningRate"] = request.LearningRate, ["minDataInLeaf"] = request.MinDataInLeaf,
            ["positions"] = request.UsePositions, ["seed"] = request.Seed, ["exploredOnly"] = report.ExploredOnly,
        });
        var record = await registry.RegisterAsync(System.Text.Encoding.UTF8.GetBytes(report.ModelText), request.Surface, new ModelMetadata(null, parameters, from, to, JsonSerializer.Serialize(metrics)), cancellationToken);
        if (activate)
        {
            await registry.ActivateAsync(request.Surface, record.Version, cancellationToken);
        }

        return record;
    }

    /// <summary>The doubly robust CTRs of the two policies and their paired difference, with intervals, as stored metrics.</summary>
    internal static Dictionary<string, double> OffPolicyFigures(RerankEstimateReport ope)
    {
        var (candidate, baseline, difference) = (ope.Comparison.Candidate.DoublyRobust.Value, ope.Comparison.Baseline.DoublyRobust.Value, ope.Comparison.DoublyRobustDifference.Value);
        return new Dictionary<string, double>
        {
            ["model"] = candidate.Estimate, ["modelLower"] = candidate.Lower, ["modelUpper"] = candidate.Upper,
            ["baseline"] = baseline.Estimate, ["baselineLower"] = baseline.Lower, ["baselineUpper"] = baseline.Upper,
            ["difference"] = difference.Estimate, ["differenceLower"] = difference.Lower, ["differenceUpper"] = difference.Upper,
            ["impressions"] = ope.Comparison.Candidate.Decisions, ["effectiveSampleSize"] = ope.Comparison.Candidate.EffectiveSampleSize,
        };
    }

    private static IModelStore StoreSelection(IEventStore store) => Server.Hosting.StoreSelection.ModelStoreOf(store);

    /// <summary>
    /// <see cref="RankerTrainingRequest.Bags"/> models, each on a bootstrap sample of the training queries (drawn with
    /// replacement, seed + bag) and its own LightGBM seed, averaged into one model.
    /// </summary>
    private static TrainingResult Bagged(RankerTrainingRequest request, LightGbmTrainingOptions lightGbm, List<LoggedQuery> training, int columns, TrainingData validation, Action<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        var texts = new List<string>(request.Bags);
        var kept = 0;
        for (var bag = 0; bag < request.Bags; bag++)
        {
            var random = new Random(request.Seed + bag);
            var sample = Enumerable.Range(0, training.Count).Select(_ => training[random.Next(training.Count)]).ToList();
            var done = bag * request.Trees;
            var member = LightGbmTrainer.Train(
                lightGbm with { Seed = request.Seed + bag },
                ToTrainingData(sample, columns, request.UsePositions),
                validation,
                progress is null ? null : p => progress(p with { Iteration = done + p.Iteration, Total = request.Bags * request.Trees }),
                cancellationToken);
            texts.Add(member.ModelText);
            kept += member.IterationsKept;
        }

        return new TrainingResult(LightGbmText.Average(texts), BestIteration: 0, IterationsRun: kept, IterationsKept: kept, EarlyStoppingMetric: null, History: []);
    }

    private static TrainingData ToTrainingData(List<LoggedQuery> queries, int columns, bool positions)
    {
        var rows = queries.Sum(q => q.Count);
        var features = new double[rows * columns];
        var labels = new float[rows];
        var position = new int[rows];
        var offset = 0;
        foreach (var q in queries)
        {
            q.Rows.CopyTo(features, offset * columns);
            q.Labels.CopyTo(labels, offset);
            q.Positions.CopyTo(position, offset);
            offset += q.Count;
        }

        return new TrainingData(features, rows, columns, labels)
        {
            Groups = queries.Select(q => q.Count).ToArray(),
            Positions = positions ? position.Select(p => p - 1).ToArray() : default(ReadOnlyMemory<int>),
        };
    }
}
