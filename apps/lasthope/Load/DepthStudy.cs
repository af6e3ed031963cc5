using System.Diagnostics;
using System.Net.Http.Json;
using Lasthope.Cli.Demo;
using Lasthope.Client;
using Lasthope.Core.Serving;
using Lasthope.Evaluation;
using Lasthope.Simulation;

namespace Lasthope.Cli.Load;

/// <summary>Settings of a depth study.</summary>
public sealed record DepthStudyOptions
{
    public required Uri Url { get; init; }

    /// <summary>Sent as a bearer token when the server has keys configured.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Re-rank depths to compare; 0 is the heuristic alone (the baseline).</summary>
    public IReadOnlyList<int> Depths { get; init; } = [0, 100, 300, 1_000];

    /// <summary>Requests per depth; every depth sees the same requests (a paired comparison).</summary>
    public int Requests { get; init; } = 300;

    public int Candidates { get; init; } = 1_000;

    public string Surface { get; init; } = "home";

    public int Seed { get; init; } = 42;

    public int RequestsPerDay { get; init; } = 2_000;

    /// <summary>The simulated day whose requests are replayed.</summary>
    public int Day { get; init; } = 14;
}

/// <summary>One depth's figures.</summary>
public sealed record DepthResult(
    int Depth,
    Interval Ndcg10,
    Interval DifferenceFromHeuristic,
    LatencySummary Server,
    double MeanDepthReached,
    IReadOnlyDictionary<string, int> ServedBy);

/// <summary>
/// For each re-rank depth K: latency percentiles and NDCG@10 of the served top 10 against the generator's truth (graded
/// relevance of every candidate, no position bias), with bootstrap intervals over requests, and the paired difference
/// from the heuristic alone. The requests rotate through the depths so that the counters move alike for all of them.
/// These are the numbers that would have shown the original team that K = 300 was enough.
/// </summary>
public sealed class DepthStudy(DepthStudyOptions options)
{
    public async Task<IReadOnlyList<DepthResult>> RunAsync(IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        var generator = new TrafficGenerator(DemoRunner.Simulation(options.Seed, options.RequestsPerDay, options.Candidates));
        using var client = Commands.CommonOptions.Client(options.Url, options.ApiKey, TimeSpan.FromSeconds(30));
        var depths = options.Depths;
        var ndcg = depths.Select(_ => new double[options.Requests]).ToArray();
        var latency = depths.Select(_ => new List<double>()).ToArray();
        var reached = depths.Select(_ => new List<double>()).ToArray();
        var servedBy = depths.Select(_ => new Dictionary<string, int>(StringComparer.Ordinal)).ToArray();
        var first = (long)options.Day * options.RequestsPerDay;
        var labels = new int[options.Candidates];
        for (var i = 0; i < options.Requests; i++)
        {
            var request = generator.Request(first + i);
            var ids = request.CandidateIds.ToArray();
            generator.TrueRelevance(request, ids, labels);
            var ideal = Dcg(labels.OrderDescending().Take(10));
            for (var d = 0; d < depths.Count; d++)
            {
                var body = DemoRunner.ToRankRequest(request, options.Surface, 10, depths[d], requestId: $"depth-{depths[d]}-{request.RequestId}");
                using var response = await client.PostAsJsonAsync("/v1/rank", body, ClientJson.Default.RankRequest, cancellationToken);
                response.EnsureSuccessStatusCode();
                var ranked = (await response.Content.ReadFromJsonAsync(ClientJson.Default.RankResponse, cancellationToken))!;
                var index = ids.Select((id, k) => (id, k)).ToDictionary(p => p.id, p => p.k, StringComparer.Ordinal);
                var gains = ranked.Items.Select(item => labels[index[item.Id]]);
                ndcg[d][i] = ideal > 0 ? Dcg(gains) / ideal : 1;
                latency[d].Add(ranked.Timings["total"]);
                reached[d].Add(ranked.RerankDepth);
                var path = ranked.ServedBy.ToWire() + (ranked.FallbackReason is { } r ? $":{r.ToWire()}" : "");
                servedBy[d][path] = servedBy[d].GetValueOrDefault(path) + 1;
            }

            progress?.Report((i + 1.0) / options.Requests);
        }

        var baseline = depths.ToList().IndexOf(0);
        return [.. depths.Select((depth, d) => new DepthResult(
            depth,
            Bootstrap.MeanInterval(ndcg[d]),
            baseline >= 0 ? Bootstrap.MeanDifferenceInterval(ndcg[d], ndcg[baseline]) : new Interval(double.NaN, double.NaN, double.NaN, 0.95),
            LatencySummary.Of(latency[d]),
            reached[d].Average(),
            servedBy[d]))];
    }

    /// <summary>DCG of gains in rank order, with LightGBM's gain 2^l - 1 and discount 1/log2(1 + rank).</summary>
    private static double Dcg(IEnumerable<int> labelsInOrder)
    {
        var dcg = 0.0;
        var rank = 0;
        foreach (var label in labelsInOrder)
        {
            dcg += (Math.Pow(2, label) - 1) * Ndcg.Discount(rank++);
        }

        return dcg;
    }
}
