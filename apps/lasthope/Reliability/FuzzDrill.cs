using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Lasthope.Cli.Demo;

namespace Lasthope.Cli.Reliability;

/// <summary>
/// The fuzz drill: <see cref="ReliabilityOptions.Requests"/> hostile requests from <see cref="HostileRequests"/>, a few
/// in flight, each on its own connection with the bytes exactly as generated. Counts the answers by status class and
/// by kind, every 5xx with the request that caused it, hangs (no status line within
/// <see cref="ReliabilityOptions.HangAfter"/>) and connections closed without an answer; afterwards the server must
/// still be live and serving, with its resident memory bounded.
/// </summary>
public sealed class FuzzDrill(ReliabilityOptions options) : IDrill
{
    /// <summary>Requests in flight at once: enough to overlap, few enough that the serving door never refuses.</summary>
    public const int InFlight = 4;

    /// <summary>The bound on resident memory growth over the drill.</summary>
    public const double MaxRssGrowthMb = 256;

    public string Name => "fuzz";

    public async Task RunAsync(DrillResult result, DrillWorkspace workspace, IProgress<double> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(workspace);
        await using var server = await workspace.StartServerAsync(workspace.NewDataDirectory(), cancellationToken);
        await WarmUpAsync(server, cancellationToken);
        var rssBefore = server.RssBytes();
        var generator = new HostileRequests(options.Seed);
        var byKind = HostileRequests.KindNames.ToDictionary(k => k, _ => new long[6], StringComparer.Ordinal); // requests, 2xx, 3xx, 4xx, 5xx, no answer
        var latencies = new List<double>();
        var errors = new ConcurrentDictionary<string, ErrorGroup>(StringComparer.Ordinal);
        long sent = 0, fiveXx = 0, versionNotSupported = 0, hangs = 0, closed = 0, connectFailed = 0;
        var next = -1;
        var died = false;
        // Bounded in count (Requests) and in time (60 ms a request on average, at least a minute).
        var timeLimit = TimeSpan.FromMilliseconds(Math.Max(60_000, options.Requests * 60.0));
        var started = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, InFlight).Select(_ => Task.Run(
            async () =>
            {
                while (!died && Stopwatch.GetElapsedTime(started) < timeLimit)
                {
                    var i = Interlocked.Increment(ref next);
                    if (i >= options.Requests)
                    {
                        return;
                    }

                    var request = generator.Create(i);
                    var answer = await RawHttp.ExchangeAsync(server.Port, request.ToWire(workspace.ApiKey, server.Port), options.HangAfter, request.CloseAfterSend, cancellationToken);
                    Interlocked.Increment(ref sent);
                    var counts = byKind[request.Kind];
                    lock (counts)
                    {
                        counts[0]++;
                        counts[answer.Outcome == RawOutcome.Answered ? Math.Clamp(answer.Status / 100, 2, 5) - 1 : 5]++;
                    }

                    lock (latencies)
                    {
                        latencies.Add(answer.Milliseconds);
                    }

                    switch (answer.Outcome)
                    {
                        case RawOutcome.Answered when answer.Status == 505:
                            // Kestrel's prescribed answer to a request line of HTTP/2.0, 1.2 or 9.9 (RFC 9110, 15.6.6),
                            // given before any Lasthope code runs: counted apart, not as a server error.
                            Interlocked.Increment(ref versionNotSupported);
                            break;
                        case RawOutcome.Answered when answer.Status >= 500:
                            Interlocked.Increment(ref fiveXx);
                            errors.AddOrUpdate($"{answer.Status} to {request.Signature}", _ => new ErrorGroup(1, i, request.Describe()), (_, g) => g with { Count = g.Count + 1 });
                            break;
                        case RawOutcome.Hang:
                            Interlocked.Increment(ref hangs);
                            result.Note($"hang #{i}: no answer in {options.HangAfter.TotalSeconds:F0} s to {request.Describe()}");
                            break;
                        case RawOutcome.ClosedWithoutAnswer:
                            Interlocked.Increment(ref closed);
                            break;
                        case RawOutcome.ConnectFailed:
                            Interlocked.Increment(ref connectFailed);
                            if (server.HasExited)
                            {
                                died = true;
                                result.Note($"the server exited during request #{i} ({request.Describe()}): {server.RecentOutput}");
                            }

                            break;
                        default:
                            break;
                    }

                    if (i % 100 == 0)
                    {
                        progress.Report((double)i / options.Requests);
                    }
                }
            },
            cancellationToken)).ToList();
        await Task.WhenAll(workers);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;

        var live = !server.HasExited && await DrillHttp.IsLiveAsync(server.Http, options.HangAfter, cancellationToken);
        var serving = live && await ServesAsync(server, cancellationToken);
        var rssEnd = server.RssBytes();
        await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken); // settle: background collections free what they free
        var rssAfter = server.RssBytes();
        var heap = live ? await HeapAsync(server, cancellationToken) : null;
        var latency = LatencySummary.Of(latencies);
        result["requests"] = sent;
        result["requestsPerSecond"] = Math.Round(sent / seconds, 1);
        foreach (var (kind, counts) in byKind)
        {
            result[$"kind.{kind}"] = counts[0];
            result[$"kind.{kind}.2xx"] = counts[1];
            result[$"kind.{kind}.4xx"] = counts[3];
            result[$"kind.{kind}.5xx"] = counts[4];
        }

        result["2xx"] = byKind.Values.Sum(c => c[1]);
        result["3xx"] = byKind.Values.Sum(c => c[2]);
        result["4xx"] = byKind.Values.Sum(c => c[3]);
        result["5xx"] = fiveXx;
        result["505"] = versionNotSupported;
        result["hangs"] = hangs;
        result["closedWithoutAnswer"] = closed;
        result["connectFailed"] = connectFailed;
        result["p99Ms"] = Math.Round(latency.P99, 1);
        result["maxMs"] = Math.Round(latency.Max, 1);
        result["liveAfter"] = live ? 1 : 0;
        result["servingAfter"] = serving ? 1 : 0;
        result["rssBeforeMb"] = DrillResult.Megabytes(rssBefore);
        result["rssAtEndMb"] = DrillResult.Megabytes(rssEnd);
        result["rssAfterMb"] = DrillResult.Megabytes(rssAfter);
        result["heapAfterMb"] = DrillResult.Megabytes(heap?.Heap);
        result["gen2CollectionsAfter"] = heap?.Gen2 ?? double.NaN;
        result["gcPauseTotalMsAfter"] = heap is null ? double.NaN : Math.Round(heap.GcPauseMs);
        result["trackedItemsAfter"] = heap?.TrackedItems ?? double.NaN;
        result["impressionsAfter"] = heap?.Impressions ?? double.NaN;
        result["rssGrowthMb"] = Math.Round(result["rssAfterMb"] - result["rssBeforeMb"], 1);

        result.AtLeast("requests sent", sent, options.Requests);
        result.AtMost("5xx answers (505s apart)", fiveXx, 0);
        result.Info("505 to unsupported HTTP versions", versionNotSupported.ToString("N0", CultureInfo.InvariantCulture));
        foreach (var (signature, group) in errors.OrderByDescending(e => e.Value.Count).ThenBy(e => e.Key, StringComparer.Ordinal))
        {
            result.Note($"5xx x{group.Count}: {signature}; the first, #{group.First}: {group.Example}");
        }

        foreach (var failure in server.Failures)
        {
            result.Note($"server log: {failure}");
        }

        result.AtMost("hangs", hangs, 0);
        result.Info("answers 2xx / 4xx", string.Create(CultureInfo.InvariantCulture, $"{result["2xx"]:N0} / {result["4xx"]:N0}"));
        result.Info("closed without an answer", closed.ToString("N0", CultureInfo.InvariantCulture));
        result.Info("latency p99 / max", string.Create(CultureInfo.InvariantCulture, $"{latency.P99:F0} / {latency.Max:F0} ms"));
        result.Info("server afterwards: items tracked, impressions, GC pauses", string.Create(CultureInfo.InvariantCulture, $"{result["trackedItemsAfter"]:N0}, {result["impressionsAfter"]:N0}, {result["gcPauseTotalMsAfter"]:N0} ms in all"));
        result.Expect("live and serving afterwards", live && serving, live ? (serving ? "yes" : "live, rank failed") : "no", "yes");
        result.Expect(
            "RSS growth (before -> after)",
            rssAfter is not null && rssBefore is not null && result["rssGrowthMb"] < MaxRssGrowthMb,
            string.Create(CultureInfo.InvariantCulture, $"{result["rssGrowthMb"]:F0} MB ({result["rssBeforeMb"]:F0} -> {result["rssAfterMb"]:F0}; managed heap {result["heapAfterMb"]:F0})"),
            string.Create(CultureInfo.InvariantCulture, $"< {MaxRssGrowthMb:F0} MB"));
    }

    private sealed record ErrorGroup(int Count, int First, string Example);

    private sealed record ServerState(long Heap, int Gen2, double GcPauseMs, long TrackedItems, long Impressions);

    /// <summary>What the server says of itself in /v1/status: its managed heap (garbage included), collections, and what its counters track.</summary>
    private async Task<ServerState?> HeapAsync(ServerProcess server, CancellationToken cancellationToken)
    {
        try
        {
            var (status, body) = await DrillHttp.GetJsonAsync(server.Http, "/v1/status", options.HangAfter, cancellationToken);
            return status == HttpStatusCode.OK && body.TryGetProperty("runtime", out var runtime) && runtime.ValueKind == System.Text.Json.JsonValueKind.Object
                ? new ServerState(
                    runtime.GetProperty("heapBytes").GetInt64(),
                    runtime.GetProperty("gen2Collections").GetInt32(),
                    runtime.GetProperty("gcPauseTotalMs").GetDouble(),
                    body.GetProperty("trackedItems").GetInt64(),
                    body.GetProperty("impressions").GetInt64())
                : null;
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutException or KeyNotFoundException)
        {
            return null;
        }
    }

    /// <summary>A few valid requests, so that the memory measured before is a warmed-up server's.</summary>
    private static async Task WarmUpAsync(ServerProcess server, CancellationToken cancellationToken)
    {
        await FuzzPredictor.RegisterAsync(server.Http, cancellationToken);
        await FuzzText.RegisterAsync(server.Http, cancellationToken);
        var random = new Random(1);
        for (var i = 0; i < 30; i++)
        {
            var body = HostileRequests.RankBody(random, -1 - i);
            body["requestId"] = null;
            await DrillHttp.PostJsonAsync(server.Http, "/v1/rank", body.ToJsonString(), TimeSpan.FromSeconds(10), cancellationToken);
            await DrillHttp.PostJsonAsync(server.Http, "/v1/events", HostileRequests.EventsBody(random, -1 - i).ToJsonString(), TimeSpan.FromSeconds(10), cancellationToken);
            await DrillHttp.PostJsonAsync(server.Http, FuzzText.Path, FuzzText.Body(random).ToJsonString(), TimeSpan.FromSeconds(10), cancellationToken); // loads the encoder
        }
    }

    /// <summary>A valid rank request gets its ranking.</summary>
    private async Task<bool> ServesAsync(ServerProcess server, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["user"] = new JsonObject { ["id"] = "fz-after" }, ["candidates"] = new JsonArray("fz-i1", "fz-i2", "fz-i3"), ["surface"] = "home" };
        try
        {
            var (status, answer) = await DrillHttp.PostJsonAsync(server.Http, "/v1/rank", body.ToJsonString(), options.HangAfter, cancellationToken);
            return status == HttpStatusCode.OK && answer.TryGetProperty("items", out var items) && items.GetArrayLength() == 3;
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutException)
        {
            return false;
        }
    }
}
