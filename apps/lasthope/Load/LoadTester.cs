using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Lasthope.Cli.Demo;
using Lasthope.Client;
using Lasthope.Core.Serving;
using Lasthope.Simulation;

namespace Lasthope.Cli.Load;

/// <summary>Settings of a load test.</summary>
public sealed record LoadTestOptions
{
    public required Uri Url { get; init; }

    /// <summary>Sent as a bearer token when the server has keys configured.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Requests per second, sent on schedule whatever the responses do (open loop). 0 for a closed loop.</summary>
    public double Rate { get; init; } = 100;

    /// <summary>Requests in flight in a closed loop (each sends the next when its response arrives): the capacity probe.</summary>
    public int Concurrency { get; init; } = 4;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Requests sent before measuring starts (JIT, connections, caches).</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(3);

    public int Candidates { get; init; } = 1_000;

    public int Count { get; init; } = 10;

    public string Surface { get; init; } = "home";

    public int? RerankDepth { get; init; }

    /// <summary>The generator's seed and daily rate: the same as the demo run whose history the server holds.</summary>
    public int Seed { get; init; } = 42;

    public int RequestsPerDay { get; init; } = 2_000;

    /// <summary>The budget an answer is judged by when its response names none (a surface without a model): "within budget" and "late".</summary>
    public double BudgetMs { get; init; } = 80;

    /// <summary>The simulated day whose requests are replayed (default: the day after a demo of 14 days).</summary>
    public int Day { get; init; } = 14;

    /// <summary>Distinct request bodies prepared up front (the generator's cost stays out of the measurement).</summary>
    public int Bodies { get; init; } = 2_000;

    /// <summary>Instead of rank requests: POST /v1/predict/{name} with these bodies, one row each (<see cref="PredictBodies"/>).</summary>
    public string? Predictor { get; init; }

    public IReadOnlyList<byte[]>? PredictBodies { get; init; }

    /// <summary>Instead of rank requests: POST /v1/text/{name} with these bodies, one text each (<see cref="TextBodies"/>).</summary>
    public string? TextModel { get; init; }

    public IReadOnlyList<byte[]>? TextBodies { get; init; }
}

/// <summary>Latencies of one served path.</summary>
public sealed record PathStats(long Requests, LatencySummary Server, LatencySummary Client);

/// <summary>What a load test measured.</summary>
public sealed record LoadTestResult(
    double Seconds,
    long Sent,
    long Completed,
    long Errors,
    long Refused,
    double Throughput,
    LatencySummary Server,
    LatencySummary Client,
    IReadOnlyDictionary<string, PathStats> ByPath,
    IReadOnlyDictionary<string, long> FallbackReasons,
    double FallbackRate,
    double MaxServerMs,
    double MaxSendLagMs,
    long LateSends,
    LatencySummary ClientFromSend)
{
    /// <summary>Text mode: the encoder's time on the server (timings.encoderMs) of the requests the encoder answered; null otherwise.</summary>
    public LatencySummary? Encoder { get; init; }

    /// <summary>Answers whose server time was within their budget (the response's budgetMs, else <see cref="LoadTestOptions.BudgetMs"/>).</summary>
    public long WithinBudget { get; init; }

    /// <summary>Answers whose server time exceeded their budget by more than 5 ms.</summary>
    public long Late { get; init; }

    /// <summary>Refusals at the door: the server's time to refuse (its Server-Timing header) and the client's round trip from the send.</summary>
    public LatencySummary RefusedServer { get; init; } = LatencySummary.Of([]);

    public LatencySummary RefusedClient { get; init; } = LatencySummary.Of([]);

    /// <summary>Answers within budget per measured second: the goodput.</summary>
    public double Goodput => Seconds <= 0 ? 0 : WithinBudget / Seconds;
}

/// <summary>
/// Drives a running server over loopback with the generator's requests, at a fixed rate (open loop: a request is
/// sent at its scheduled time even when earlier ones are late, and its client latency counts from that time, so a
/// stalled server cannot hide its queue: no coordinated omission) or with a fixed number in flight (closed loop).
/// Server-side latency is the rank pipeline's own total, from arrival to response, as the response reports it. With
/// <see cref="LoadTestOptions.Predictor"/> it sends prediction requests instead, and with <see cref="LoadTestOptions.TextModel"/>
/// text requests, and reads their served path the same way.
/// </summary>
public sealed class LoadTester(LoadTestOptions options)
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    /// <summary>A send more than 10 ms behind its schedule counts as late.</summary>
    private static readonly long LateSendTicks = Stopwatch.Frequency / 100;

    public async Task<LoadTestResult> RunAsync(IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        var bodies = options.TextBodies is { } texts ? [.. texts] : options.PredictBodies is { } rows ? [.. rows] : PrepareBodies();
        var path = options.TextModel is { } textModel ? $"/v1/text/{Uri.EscapeDataString(textModel)}"
            : options.Predictor is { } predictor ? $"/v1/predict/{Uri.EscapeDataString(predictor)}"
            : "/v1/rank";
        var rankMode = options.TextModel is null && options.Predictor is null;
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 2_048, PooledConnectionLifetime = TimeSpan.FromMinutes(30), UseProxy = false };
        using var client = Commands.CommonOptions.Client(options.Url, options.ApiKey, TimeSpan.FromSeconds(30), handler);
        var samples = new ConcurrentBag<Sample>();
        var refusals = new ConcurrentBag<(double ServerMs, double ClientMs)>();
        long sent = 0, errors = 0, refused = 0, lateSends = 0;
        var maxLag = 0L;
        var total = options.Warmup + options.Duration;
        var started = Stopwatch.GetTimestamp();
        var measureFrom = started + (long)(options.Warmup.TotalSeconds * Stopwatch.Frequency);
        var inFlight = new List<Task>();

        if (options.Rate > 0)
        {
            // Wake about every millisecond and send whatever has come due: an open loop that does not spin (a spinning
            // scheduler would take a core from the server it measures). Latency counts from each request's due time,
            // so the scheduler's own jitter is charged to the measurement, not hidden.
            var interval = Stopwatch.Frequency / options.Rate;
            long i = 0;
            while (!cancellationToken.IsCancellationRequested)
            {
                var now = Stopwatch.GetTimestamp();
                var stop = false;
                while (started + (long)(i * interval) <= now)
                {
                    var due = started + (long)(i * interval);
                    if (Stopwatch.GetElapsedTime(started, due) >= total)
                    {
                        stop = true;
                        break;
                    }

                    inFlight.Add(SendAsync(client, bodies[(int)(i % bodies.Length)], due, due >= measureFrom));
                    Interlocked.Increment(ref sent);
                    if (due >= measureFrom)
                    {
                        // How far the generator itself fell behind its schedule (its own pauses, or no core for it):
                        // requests that fell due meanwhile go out together, as a burst the server did not cause.
                        var lag = Stopwatch.GetTimestamp() - due;
                        maxLag = Math.Max(maxLag, lag);
                        lateSends += lag > LateSendTicks ? 1 : 0;
                    }

                    if (i % 200 == 0)
                    {
                        progress?.Report(Stopwatch.GetElapsedTime(started) / total);
                        inFlight.RemoveAll(t => t.IsCompleted);
                    }

                    i++;
                }

                if (stop)
                {
                    break;
                }

                await Task.Delay(1, CancellationToken.None);
            }
        }
        else
        {
            var next = -1L;
            var workers = Enumerable.Range(0, options.Concurrency).Select(async _ =>
            {
                while (Stopwatch.GetElapsedTime(started) < total && !cancellationToken.IsCancellationRequested)
                {
                    var i = Interlocked.Increment(ref next);
                    var now = Stopwatch.GetTimestamp();
                    Interlocked.Increment(ref sent);
                    await SendAsync(client, bodies[(int)(i % bodies.Length)], now, now >= measureFrom);
                    if (i % 200 == 0)
                    {
                        progress?.Report(Stopwatch.GetElapsedTime(started) / total);
                    }
                }
            }).ToList();
            inFlight.AddRange(workers);
        }

        await Task.WhenAll(inFlight);
        progress?.Report(1);
        var measured = samples.ToList();
        var seconds = options.Duration.TotalSeconds;
        var byPath = measured.GroupBy(s => s.ServedBy).ToDictionary(
            g => g.Key,
            g => new PathStats(g.LongCount(), LatencySummary.Of([.. g.Select(s => s.ServerMs)]), LatencySummary.Of([.. g.Select(s => s.ClientMs)])));
        var modelPath = measured.Count(s => s.ServedBy != "heuristic");
        var fallbacks = measured.Where(s => s.ServedBy == "heuristic_fallback").ToList();
        return new LoadTestResult(
            seconds,
            Interlocked.Read(ref sent),
            measured.Count,
            Interlocked.Read(ref errors),
            Interlocked.Read(ref refused),
            measured.Count / seconds,
            LatencySummary.Of([.. measured.Select(s => s.ServerMs)]),
            LatencySummary.Of([.. measured.Select(s => s.ClientMs)]),
            byPath,
            fallbacks.GroupBy(s => s.Reason ?? "none").ToDictionary(g => g.Key, g => g.LongCount()),
            modelPath == 0 ? 0 : (double)fallbacks.Count / modelPath,
            measured.Count == 0 ? 0 : measured.Max(s => s.ServerMs),
            Stopwatch.GetElapsedTime(0, maxLag).TotalMilliseconds,
            lateSends,
            LatencySummary.Of([.. measured.Select(s => s.ClientFromSendMs)]))
        {
            Encoder = options.TextModel is null ? null : LatencySummary.Of([.. measured.Where(s => s.ServedBy == "model").Select(s => s.EncoderMs)]),
            WithinBudget = measured.LongCount(s => s.ServerMs <= s.BudgetMs),
            Late = measured.LongCount(s => s.ServerMs > s.BudgetMs + 5),
            RefusedServer = LatencySummary.Of([.. refusals.Where(r => !double.IsNaN(r.ServerMs)).Select(r => r.ServerMs)]),
            RefusedClient = LatencySummary.Of([.. refusals.Select(r => r.ClientMs)]),
        };

        async Task SendAsync(HttpClient http, byte[] body, long scheduled, bool record)
        {
            try
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = Json;
                var sentAt = Stopwatch.GetTimestamp();
                using var response = await http.PostAsync(path, content, CancellationToken.None);
                var bytes = await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
                var clientMs = Stopwatch.GetElapsedTime(scheduled).TotalMilliseconds;
                var fromSendMs = Stopwatch.GetElapsedTime(sentAt).TotalMilliseconds;
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable && response.Headers.RetryAfter is not null)
                {
                    if (record)
                    {
                        Interlocked.Increment(ref refused); // the server's door (Serving:MaxRequestsInFlight), by design
                        refusals.Add((RefusalMs(response), fromSendMs));
                    }

                    return;
                }

                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref errors);
                    return;
                }

                if (record && rankMode)
                {
                    var ranked = JsonSerializer.Deserialize(bytes, ClientJson.Default.RankResponse)!;
                    samples.Add(new Sample(ranked.ServedBy.ToWire(), ranked.FallbackReason?.ToWire(), ranked.Timings["total"], clientMs, fromSendMs) { BudgetMs = ranked.BudgetMs > 0 ? ranked.BudgetMs : options.BudgetMs });
                }
                else if (record)
                {
                    // Predictions and texts share the served-path fields and timings.totalMs; texts add timings.encoderMs.
                    using var document = JsonDocument.Parse(bytes);
                    var predicted = document.RootElement;
                    var reason = predicted.GetProperty("fallbackReason");
                    var timings = predicted.GetProperty("timings");
                    samples.Add(new Sample(predicted.GetProperty("servedBy").GetString()!, reason.ValueKind == JsonValueKind.String ? reason.GetString() : null,
                        timings.GetProperty("totalMs").GetDouble(), clientMs, fromSendMs,
                        timings.TryGetProperty("encoderMs", out var encoder) ? encoder.GetDouble() : 0) { BudgetMs = options.BudgetMs });
                }
            }
            catch (HttpRequestException)
            {
                Interlocked.Increment(ref errors);
            }
            catch (TaskCanceledException)
            {
                Interlocked.Increment(ref errors);
            }
        }
    }

    /// <summary>The server's own time to refuse, from its "Server-Timing: refused;dur=MS" header (NaN without one).</summary>
    private static double RefusalMs(HttpResponseMessage response)
    {
        if (response.Headers.TryGetValues("Server-Timing", out var values))
        {
            foreach (var value in values)
            {
                var at = value.IndexOf("dur=", StringComparison.Ordinal);
                if (at >= 0 && double.TryParse(value.AsSpan(at + 4), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var ms))
                {
                    return ms;
                }
            }
        }

        return double.NaN;
    }

    /// <summary>Request bodies from the generator, serialized once: users and candidates of the chosen simulated day.</summary>
    private byte[][] PrepareBodies()
    {
        var generator = new TrafficGenerator(DemoRunner.Simulation(options.Seed, options.RequestsPerDay, options.Candidates));
        var first = (long)options.Day * options.RequestsPerDay;
        var bodies = new byte[options.Bodies][];
        for (var i = 0; i < bodies.Length; i++)
        {
            var request = generator.Request(first + i);
            // No request id: the server makes a unique one for every request, so that each is logged.
            var rank = DemoRunner.ToRankRequest(request, options.Surface, options.Count, options.RerankDepth) with { RequestId = null };
            bodies[i] = JsonSerializer.SerializeToUtf8Bytes(rank, ClientJson.Default.RankRequest);
        }

        return bodies;
    }

    /// <param name="ClientMs">From the scheduled send time (what a caller waiting on schedule sees).</param>
    /// <param name="ClientFromSendMs">From the moment the request was handed to the HTTP client: without the generator's own lag.</param>
    /// <param name="EncoderMs">Text requests: the server's encoder time (timings.encoderMs); 0 otherwise.</param>
    private readonly record struct Sample(string ServedBy, string? Reason, double ServerMs, double ClientMs, double ClientFromSendMs, double EncoderMs = 0)
    {
        public double BudgetMs { get; init; }
    }
}
