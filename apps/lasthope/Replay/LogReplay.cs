using System.Diagnostics;
using Lasthope.Core.Events;
using Lasthope.Core.Serving;
using Lasthope.Core.Storage;
using Lasthope.Evaluation;
using Lasthope.Server.Hosting;
using Lasthope.Server.Ingestion;
using Lasthope.Server.Models;
using Lasthope.Server.Ranking;
using Lasthope.Simulation;
using Microsoft.Extensions.DependencyInjection;

namespace Lasthope.Cli.Replay;

/// <summary>What to replay, and with which policy.</summary>
public sealed record ReplayOptions
{
    public required FileInfo Log { get; init; }

    /// <summary>The CSV mapping; null for JSONL.</summary>
    public CsvMapping? Mapping { get; init; }

    /// <summary>A LightGBM or XGBoost model file to serve on every replayed surface; null for the heuristic alone.</summary>
    public FileInfo? Model { get; init; }

    public int? RerankDepth { get; init; }

    public string? ConfigFile { get; init; }

    /// <summary>Seeds the random order and the bootstrap.</summary>
    public int Seed { get; init; } = 42;
}

/// <summary>One order's agreement with the logged clicks, over the rankings that had a click and a non-click.</summary>
public sealed record OrderScore(string Order, Interval Ndcg10, Interval Auc);

/// <summary>A replay's result: the served order against the logged order and a random order, with paired differences.</summary>
public sealed record ReplayResult(
    string Policy,
    long Rankings,
    long Clicks,
    long ScoredRankings,
    IReadOnlyList<OrderScore> Orders,
    Interval NdcgServedMinusLogged,
    Interval NdcgServedMinusRandom,
    IReadOnlyDictionary<string, long> ServedBy,
    long EventsRejected,
    [property: System.Text.Json.Serialization.JsonIgnore] ImportReport Import,
    double Seconds);

/// <summary>
/// <c>lasthope replay</c>: serves a historical log again, in event time. The log is read as <c>import</c> reads it
/// (same validation), then its rankings are served in time order by the real serving core, each at its own event time
/// (the server's clock is moved to it), with the logged events applied to the counters as they happened: before each
/// ranking, every event logged before its time. The candidates of a replayed request are the items its logged ranking
/// showed, the only ones whose clicks are known; the served order is scored against those clicks (NDCG@10 with a
/// click as relevance 1, and the AUC: the share of (clicked, unclicked) pairs in which the clicked item comes first),
/// beside the logged order and a seeded random order of the same items, with bootstrap intervals over rankings and
/// paired ones for the differences. A replayed ranking keeps its logged request id, so its clicks attribute to it and
/// its impressions count as the logged ones did (the same items, at the replayed positions).
/// </summary>
public sealed class LogReplay(ReplayOptions options)
{
    /// <summary>Events applied to the counters in one call.</summary>
    private const int EventBatch = 1_000;

    public async Task<ReplayResult> RunAsync(IProgress<(long Done, long Total)>? progress = null, CancellationToken cancellationToken = default)
    {
        var wall = Stopwatch.StartNew();

        // 1. The log, read and validated as an import reads it, into memory.
        var log = new InMemoryEventStore();
        var importOptions = LasthopeServer.LoadOptions(new ServerSetup { ConfigFile = options.ConfigFile, Store = log });
        var import = await Lasthope.Cli.Commands.LogFileOptions.ImportAsync(new LogImporter(log, importOptions, TimeProvider.System), options.Log, options.Mapping, null, cancellationToken);
        var rankings = new List<RankingLog>();
        var events = new List<InteractionEvent>();
        await foreach (var entry in log.ReadLogAsync(DateTimeOffset.MinValue, cancellationToken))
        {
            if (entry.Ranking is { } logged)
            {
                rankings.Add(logged);
            }
            else if (entry.Event is { } e)
            {
                events.Add(e);
            }
        }

        if (rankings.Count == 0)
        {
            throw new FormatException($"{options.Log.Name} holds no ranking to replay ({import.RejectedLines} of {import.Lines} lines rejected).");
        }

        // Stable sorts: rankings and events of one instant keep the log's order.
        rankings = [.. rankings.OrderBy(r => r.Time)];
        events = [.. events.OrderBy(e => e.Time)];
        var clicked = events.Where(e => e.RequestId is not null && e.Weight > 0).ToLookup(e => e.RequestId!, e => e.ItemId, StringComparer.Ordinal);

        // 2. The serving core, on a clock the replay moves, with every replayed surface declared.
        var clock = new SimulatedClock(rankings[0].Time);
        var surfaces = rankings.Select(r => r.Surface).Distinct(StringComparer.Ordinal).ToList();
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var surface in surfaces)
        {
            if (!importOptions.Serving.Surfaces.ContainsKey(surface))
            {
                settings[$"Lasthope:Serving:Surfaces:{surface}"] = "";
            }
        }

        await using var server = await LasthopeServer.StartAsync(
            new ServerSetup { Urls = "http://127.0.0.1:0", ConfigFile = options.ConfigFile, Store = new InMemoryEventStore(), Time = clock, Settings = settings },
            cancellationToken);
        var services = server.Services;
        var policy = "heuristic";
        if (options.Model is { } modelFile)
        {
            var registry = services.GetRequiredService<ModelRegistry>();
            var record = await registry.RegisterAsync(await File.ReadAllBytesAsync(modelFile.FullName, cancellationToken), surfaces[0], new ModelMetadata("replay"), cancellationToken);
            foreach (var surface in surfaces)
            {
                await registry.ActivateAsync(surface, record.Version, cancellationToken);
            }

            policy = $"model {modelFile.Name}";
        }

        var service = services.GetRequiredService<RankingService>();
        var ingestor = services.GetRequiredService<EventIngestor>();
        var random = new Random(options.Seed);
        var ndcg = new List<double>[] { [], [], [] };
        var aucs = new List<double>[] { [], [], [] };
        var servedBy = new Dictionary<string, long>(StringComparer.Ordinal);
        var (nextEvent, rejected) = (0, 0L);
        for (var r = 0; r < rankings.Count; r++)
        {
            var logged = rankings[r];
            clock.AdvanceTo(logged.Time);
            (nextEvent, var refused) = await ApplyEventsAsync(ingestor, events, nextEvent, logged.Time, cancellationToken);
            rejected += refused;
            var candidates = logged.Items.OrderBy(i => i.Position).Select(i => i.ItemId).Distinct(StringComparer.Ordinal).ToArray();
            var result = await service.RankAsync(
                new RankCommand
                {
                    RequestId = logged.RequestId,
                    Surface = logged.Surface,
                    UserId = logged.UserId,
                    ExplicitSegment = logged.Segment,
                    CandidateIds = candidates,
                    CandidateFeatures = new IReadOnlyDictionary<string, double>?[candidates.Length],
                    Count = candidates.Length,
                    RerankDepth = options.RerankDepth,
                },
                cancellationToken: cancellationToken);
            var path = result.Ranking.FallbackReason is { } reason ? $"{result.Ranking.ServedBy.ToWire()} ({reason.ToWire()})" : result.Ranking.ServedBy.ToWire();
            servedBy[path] = servedBy.GetValueOrDefault(path) + 1;

            var clicks = clicked[logged.RequestId].ToHashSet(StringComparer.Ordinal);
            if (clicks.Count > 0 && clicks.Count < candidates.Length)
            {
                var shuffled = (string[])candidates.Clone();
                random.Shuffle(shuffled);
                string[][] orders = [[.. result.Ranking.Items.Select(i => i.ItemId)], candidates, shuffled];
                for (var o = 0; o < orders.Length; o++)
                {
                    var labels = orders[o].Select(id => clicks.Contains(id) ? 1 : 0).ToArray();
                    ndcg[o].Add(Ndcg.AtK(DescendingScores(labels.Length), labels, 10));
                    aucs[o].Add(Auc(labels));
                }
            }

            progress?.Report((r + 1, rankings.Count));
        }

        string[] names = ["served", "logged", "random"];
        var scores = names.Select((name, o) => new OrderScore(
            name,
            Bootstrap.MeanInterval(ndcg[o].ToArray(), seed: options.Seed),
            Bootstrap.MeanInterval(aucs[o].ToArray(), seed: options.Seed))).ToList();
        return new ReplayResult(
            policy,
            rankings.Count,
            events.Count(e => e.Weight > 0),
            ndcg[0].Count,
            scores,
            Bootstrap.MeanDifferenceInterval(ndcg[0].ToArray(), ndcg[1].ToArray(), seed: options.Seed),
            Bootstrap.MeanDifferenceInterval(ndcg[0].ToArray(), ndcg[2].ToArray(), seed: options.Seed),
            servedBy,
            rejected,
            import,
            wall.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Applies the events logged before <paramref name="until"/>; returns the index of the next one and how many the
    /// ingestor refused (an event whose ranking did not show its item, say). Strictly before:
    /// a click logged at its own ranking's instant must not reach the counters before that ranking is served again,
    /// or the replay would rank by the very clicks it is scored against.
    /// </summary>
    private static async Task<(int Next, long Rejected)> ApplyEventsAsync(EventIngestor ingestor, List<InteractionEvent> events, int next, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var batch = new List<EventInput?>(EventBatch);
        long rejected = 0;
        while (next < events.Count && events[next].Time < until)
        {
            var e = events[next++];
            batch.Add(new EventInput(e.EventId, e.ItemId, e.Type, e.UserId, e.RequestId, e.Time));
            if (batch.Count == EventBatch)
            {
                rejected += (await ingestor.IngestAsync(batch, cancellationToken)).Rejected.Count;
                batch.Clear();
            }
        }

        if (batch.Count > 0)
        {
            rejected += (await ingestor.IngestAsync(batch, cancellationToken)).Rejected.Count;
        }

        return (next, rejected);
    }

    /// <summary>Scores that keep an order as it is: the first gets the highest.</summary>
    private static double[] DescendingScores(int n) => [.. Enumerable.Range(0, n).Select(i => (double)(n - i))];

    /// <summary>The share of (clicked, unclicked) pairs in which the clicked item comes first; ties cannot occur.</summary>
    private static double Auc(int[] labels)
    {
        long ordered = 0, clicksSoFar = 0;
        foreach (var label in labels)
        {
            if (label > 0)
            {
                clicksSoFar++;
            }
            else
            {
                ordered += clicksSoFar;
            }
        }

        return (double)ordered / (clicksSoFar * (labels.Length - clicksSoFar));
    }
}
