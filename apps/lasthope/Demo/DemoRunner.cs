using System.Diagnostics;
using System.Net.Http.Json;
using Lasthope.Client;
using Lasthope.Server.Hosting;
using Lasthope.Server.Ingestion;
using Lasthope.Server.State;
using Lasthope.Simulation;
using Microsoft.Extensions.DependencyInjection;

namespace Lasthope.Cli.Demo;

/// <summary>Settings of a demo run.</summary>
public sealed record DemoOptions
{
    public int Seed { get; init; } = 42;

    /// <summary>Simulated days of traffic. Default 21 (three weeks).</summary>
    public int Days { get; init; } = 21;

    /// <summary>The generator's day the traffic starts on: a later run on the same data directory continues the history.</summary>
    public int FirstDay { get; init; }

    public int RequestsPerDay { get; init; } = 4_000;

    public int CandidatesPerRequest { get; init; } = 200;

    /// <summary>The surface the traffic is ranked on.</summary>
    public string Surface { get; init; } = "demo";

    /// <summary>Extra server settings (flat configuration keys).</summary>
    public IDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();

    /// <summary>Items shown (and logged as impressions) per request.</summary>
    public int Count { get; init; } = 10;

    /// <summary>Requests in flight at once.</summary>
    public int Concurrency { get; init; } = 4;

    /// <summary>The data directory; null for a new temporary one.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>Post each item's attributes (category, price, quality_signal) through POST /v1/items as it enters the catalogue.</summary>
    public bool PostItems { get; init; }

    public void Validate()
    {
        if (Days is < 1 or > 365 || FirstDay is < 0 or > 365 || RequestsPerDay is < 1 or > 1_000_000 || CandidatesPerRequest is < 1 or > 10_000 || Count < 1 || Concurrency is < 1 or > 256)
        {
            throw new ArgumentException("demo: days 1-365, requests per day 1-1,000,000, candidates 1-10,000, count >= 1, concurrency 1-256.");
        }
    }
}

/// <summary>Overlap of Lasthope's top 10 for a segment with the generator's true top 10 at the end of the run.</summary>
public sealed record SegmentOverlap(string Segment, double Overlap, IReadOnlyList<string> LearnedTop, IReadOnlyList<string> TrueTop);

/// <summary>What a demo run measured.</summary>
public sealed record DemoResult(
    IReadOnlyList<SegmentOverlap> Segments,
    double MeanOverlap,
    double ChanceOverlap,
    long Requests,
    long Clicks,
    LatencySummary ServerLatency,
    LatencySummary RoundTripLatency,
    ServerStatus Status,
    TimeSpan WallTime,
    string DataDirectory,
    DateTimeOffset SimulatedEnd);

/// <summary>Latency percentiles in milliseconds.</summary>
public sealed record LatencySummary(double P50, double P90, double P99, double P999, double Max)
{
    /// <summary>The 95th percentile (0 when there were no samples).</summary>
    public double P95 { get; init; }

    public static LatencySummary Of(List<double> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0)
        {
            return new LatencySummary(0, 0, 0, 0, 0);
        }

        var sorted = samples.Order().ToArray();
        return new LatencySummary(At(sorted, 0.5), At(sorted, 0.9), At(sorted, 0.99), At(sorted, 0.999), sorted[^1]) { P95 = At(sorted, 0.95) };
    }

    private static double At(double[] sorted, double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
}

/// <summary>
/// The main job, first version: starts Lasthope on the embedded store, drives it through the real HTTP API with the
/// seeded generator over simulated weeks (the server's clock follows the generator's event time), then measures what
/// the last-hope ranker learned against the generator's truth.
/// </summary>
public sealed class DemoRunner(DemoOptions options)
{
    /// <summary>Runs the demo; <paramref name="dayDone"/> is called after each simulated day with its index.</summary>
    /// <summary>The surface of the read-out requests, kept apart from the simulated traffic's.</summary>
    public const string ReadoutSurface = "demo-readout";

    public async Task<DemoResult> RunAsync(Action<int>? dayDone = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var wall = Stopwatch.StartNew();
        var generator = new TrafficGenerator(Simulation(options.Seed, options.RequestsPerDay, options.CandidatesPerRequest));
        var start = generator.StartOfDay(options.FirstDay);
        var end = generator.StartOfDay(options.FirstDay + options.Days);
        var clock = new SimulatedClock(start);
        var dataDirectory = options.DataDirectory ?? Path.Combine(Path.GetTempPath(), $"lasthope-demo-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}");
        // The surfaces the demo serves are declared like any other (the set of surfaces is closed).
        var settings = new Dictionary<string, string?>(options.Settings)
        {
            [$"Lasthope:Serving:Surfaces:{options.Surface}"] = options.Settings.TryGetValue($"Lasthope:Serving:Surfaces:{options.Surface}", out var declared) ? declared : "",
            [$"Lasthope:Serving:Surfaces:{ReadoutSurface}"] = "",
        };
        await using var server = await LasthopeServer.StartAsync(
            new ServerSetup { Urls = "http://127.0.0.1:0", DataDirectory = dataDirectory, Time = clock, Settings = settings, ConfigureServices = CliStores.Register },
            cancellationToken);
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = options.Concurrency, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        using var http = new HttpClient(handler) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        var client = new LasthopeClient(http);

        var serverMs = new List<double>();
        var roundTripMs = new List<double>();
        long requests = 0, clicks = 0;
        var chunk = new List<SimulatedRequest>(options.Concurrency * 8);
        var day = options.FirstDay;
        var posted = new HashSet<string>(StringComparer.Ordinal);
        await PostItemsAsync(client, generator, start, posted, cancellationToken);
        foreach (var request in generator.Requests(start, end))
        {
            if (request.Day != day)
            {
                await RunChunkAsync(chunk);
                dayDone?.Invoke(day);
                day = request.Day;
                await PostItemsAsync(client, generator, generator.StartOfDay(day), posted, cancellationToken);
            }

            chunk.Add(request);
            if (chunk.Count == chunk.Capacity)
            {
                await RunChunkAsync(chunk);
            }
        }

        await RunChunkAsync(chunk);
        dayDone?.Invoke(day);

        clock.AdvanceTo(end);
        var overlaps = new List<SegmentOverlap>();
        var live = generator.LiveItems(end);
        foreach (var segment in generator.Scheme.GridSegments)
        {
            var ranked = await client.RankAsync(
                new RankRequest { Surface = ReadoutSurface, User = new UserRef("demo-readout") { Segment = segment }, Candidates = [.. live.Select(Candidate.FromString)], Count = 10 },
                cancellationToken);
            var learned = ranked.Items.Select(i => i.Id).ToList();
            var truth = generator.TrueTop(segment, end, 10);
            overlaps.Add(new SegmentOverlap(segment, Overlap.AtK(learned, truth, 10), learned, truth));
        }

        // The impression log writes off the request path; the status should count every ranking served.
        await server.Services.GetRequiredService<ImpressionLog>().FlushAsync(cancellationToken);
        var status = await client.GetStatusAsync(cancellationToken);
        return new DemoResult(
            overlaps,
            overlaps.Average(o => o.Overlap),
            Overlap.ChanceAtK(10, live.Count),
            requests,
            clicks,
            LatencySummary.Of(serverMs),
            LatencySummary.Of(roundTripMs),
            status,
            wall.Elapsed,
            dataDirectory,
            end);

        async Task RunChunkAsync(List<SimulatedRequest> batch)
        {
            if (batch.Count == 0)
            {
                return;
            }

            clock.AdvanceTo(batch[^1].Time);
            var results = new (RankResponse Response, double RoundTripMs)[batch.Count];
            await Parallel.ForEachAsync(
                Enumerable.Range(0, batch.Count),
                new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancellationToken },
                async (i, ct) => results[i] = await RankAsync(client, batch[i], ct));

            var events = new List<InteractionEvent>();
            for (var i = 0; i < batch.Count; i++)
            {
                var (response, roundTrip) = results[i];
                serverMs.Add(response.Timings["total"]);
                roundTripMs.Add(roundTrip);
                var served = response.Items.Select(item => item.Id).ToArray();
                foreach (var click in generator.SimulateClicks(batch[i], served))
                {
                    events.Add(new InteractionEvent(click.EventId, click.ItemId) { UserId = click.UserId, RequestId = click.RequestId, Timestamp = click.Time });
                }
            }

            if (events.Count > 0)
            {
                await PostEventsAsync(client, events, cancellationToken);
            }

            requests += batch.Count;
            clicks += events.Count;
            batch.Clear();
        }
    }

    /// <summary>
    /// Posts a batch of clicks as a well-behaved client does: a 429 (the server's per-client rate limit on event
    /// batches, which a fast machine's simulated traffic can exceed) is retried after the Retry-After the server gives,
    /// a few times; event ids make the retry safe (a batch counted once counts once).
    /// </summary>
    /// <summary>The attributes of the items live at <paramref name="time"/> that were not posted yet (when the demo posts items).</summary>
    private async Task PostItemsAsync(LasthopeClient client, TrafficGenerator generator, DateTimeOffset time, HashSet<string> posted, CancellationToken cancellationToken)
    {
        if (!options.PostItems)
        {
            return;
        }

        var fresh = generator.LiveItems(time).Where(posted.Add).Select(id => generator.Item(id))
            .Select(item => new ItemInfo(item.Id, $"c{item.Category}", new Dictionary<string, double> { ["price"] = item.Price, ["quality_signal"] = item.QualitySignal }))
            .ToList();
        foreach (var batch in fresh.Chunk(1_000))
        {
            await client.PostItemsAsync(batch, cancellationToken);
        }
    }

    private static async Task PostEventsAsync(LasthopeClient client, List<InteractionEvent> events, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await client.PostEventsAsync(events, cancellationToken);
                return;
            }
            catch (LasthopeApiException e) when (e.Status == System.Net.HttpStatusCode.TooManyRequests && attempt < 10)
            {
                await Task.Delay(e.RetryAfter is { } wait && wait < TimeSpan.FromSeconds(5) ? wait : TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    /// <summary>
    /// The generator settings of a demo run; the load test and the depth study rebuild the same world from the same
    /// seed, request rate and candidate count, so their truth is the truth the demo's traffic came from.
    /// </summary>
    public static SimulationOptions Simulation(int seed, int requestsPerDay, int candidates) => new()
    {
        Seed = seed,
        RequestsPerDay = requestsPerDay,
        CandidatesPerRequest = candidates,
        InitialItemCount = Math.Max(300, candidates * 3 / 2),
    };

    /// <summary>The rank request the demo sends for a generated request.</summary>
    public static RankRequest ToRankRequest(SimulatedRequest request, string surface, int count, int? rerankDepth = null, string? requestId = null) => new()
    {
        RequestId = requestId ?? request.RequestId,
        Surface = surface,
        User = new UserRef(request.User.Id) { Age = request.User.Age, Gender = request.User.Gender },
        Candidates = [.. request.CandidateIds.Select(Candidate.FromString)],
        Count = count,
        RerankDepth = rerankDepth,
    };

    private async Task<(RankResponse, double)> RankAsync(LasthopeClient client, SimulatedRequest request, CancellationToken cancellationToken)
    {
        var body = ToRankRequest(request, options.Surface, options.Count);
        var started = Stopwatch.GetTimestamp();
        var ranked = await client.RankAsync(body, cancellationToken);
        return (ranked, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }
}
