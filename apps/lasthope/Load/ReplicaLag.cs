using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Lasthope.Cli.Demo;
using Lasthope.Client;

namespace Lasthope.Cli.Load;

/// <summary>Settings of a replica-lag measurement (<see cref="ReplicaLag"/>).</summary>
public sealed record ReplicaLagOptions
{
    /// <summary>The replica the events are posted to (A).</summary>
    public required Uri Url { get; init; }

    /// <summary>The replica whose counts are polled (B): another server on the same store.</summary>
    public required Uri ReplicaUrl { get; init; }

    /// <summary>Sent as a bearer token to both (it needs the rank and events scopes).</summary>
    public string? ApiKey { get; init; }

    /// <summary>Events per second posted to A in all, probes included, on schedule whatever the responses do (open loop).</summary>
    public double Rate { get; init; } = 1_000;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Load sent before measuring starts (JIT, connections, the follower's first pages); its probes are not counted.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Events per POST /v1/events of the load (probes go one per request).</summary>
    public int BatchSize { get; init; } = 10;

    /// <summary>Rank requests per second to A, whose shown items the load's clicks name (so that they are attributed).</summary>
    public double RankRate { get; init; } = 50;

    /// <summary>One probe event every this long.</summary>
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>How often B is asked whether it counts the oldest probe not yet seen: the resolution of a lag.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>A probe B does not count within this long after A accepted it is lost.</summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The catalog the rank requests draw candidates from.</summary>
    public int Items { get; init; } = 500;

    /// <summary>Candidates per rank request, and items shown of them.</summary>
    public int Candidates { get; init; } = 50;

    public int Shown { get; init; } = 10;

    /// <summary>Seeds the candidates, users and the clicks' choice of ranking and item.</summary>
    public int Seed { get; init; } = 42;
}

/// <summary>What a replica-lag run measured. Times in milliseconds; rates over the measured seconds.</summary>
/// <param name="EventsPerSecond">Events A accepted (load and probes, by their due time in the measured window) per second.</param>
/// <param name="Lag">From A's 2xx response to a probe to the first response of B whose count includes it.</param>
/// <param name="PollGap">Actual time between two successive polls of B for the same probe (the window a seen time is uncertain by).</param>
/// <param name="Errors">Failed requests of any kind plus events A rejected (see <paramref name="ErrorsByKind"/>).</param>
/// <param name="MaxSendLagMs">How far the generator itself fell behind its schedule (its own pauses, or no core for it).</param>
public sealed record ReplicaLagResult(
    double Seconds,
    double TargetRate,
    long EventsSent,
    long EventsAccepted,
    double EventsPerSecond,
    long RankRequests,
    long Probes,
    long ProbesSeen,
    long ProbesLost,
    long ProbesFailed,
    LatencySummary Lag,
    double MinLagMs,
    double PollIntervalMs,
    LatencySummary PollGap,
    long Polls,
    double ProbeTimeoutSeconds,
    long Errors,
    IReadOnlyDictionary<string, long> ErrorsByKind,
    double MaxSendLagMs,
    long LateSends);

/// <summary>
/// Measures how long an event accepted by one replica (A) takes to be counted by another (B) on the same store. Load:
/// an open loop of <see cref="ReplicaLagOptions.Rate"/> events/s posted to A (clicks in batches, each naming a ranking A
/// served and an item it showed, so that it is attributed as a client's click is), with rank requests beside them.
/// Among them, every <see cref="ReplicaLagOptions.ProbeInterval"/>, a probe: one click, alone in its request, on an item
/// of its own that nothing else names. Its accepted time is when A's 2xx arrived (A has appended it durably then); B's
/// <c>GET /v1/items/{probe}/stats</c> is polled every <see cref="ReplicaLagOptions.PollInterval"/> for the oldest
/// probe not yet seen, and its seen time is when the first response counting it arrived (an upper bound: B counted it
/// somewhere between the previous poll and this one). B follows the log in sequence order, so the probes become
/// visible in the order A accepted them; one seen out of order is charged the wait for the ones before it (lag
/// overstated, never understated). A probe not counted within <see cref="ReplicaLagOptions.ProbeTimeout"/> is lost.
/// </summary>
public sealed class ReplicaLag(ReplicaLagOptions options)
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    /// <summary>A send more than 10 ms behind its schedule counts as late.</summary>
    private static readonly long LateSendTicks = Stopwatch.Frequency / 100;

    /// <summary>Rankings kept for the clicks to name: the newest ones, as a client's clicks follow what it was just shown.</summary>
    private const int RecentRankings = 256;

    private readonly ConcurrentDictionary<string, long> _errors = new(StringComparer.Ordinal);
    private readonly Lock _rankingsGate = new();
    private readonly (string RequestId, string UserId, string[] Items)[] _rankings = new (string, string, string[])[RecentRankings];
    private readonly ConcurrentQueue<Probe> _accepted = new();
    private readonly ConcurrentBag<double> _lags = new();
    private readonly string _run = Guid.NewGuid().ToString("N")[..10];
    private int _rankingsKnown;
    private long _eventsSent, _eventsAccepted, _rankRequests, _probesFailed, _probesPending, _polls, _lost;

    public async Task<ReplicaLagResult> RunAsync(IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        var probeRate = 1 / options.ProbeInterval.TotalSeconds;
        var loadRate = options.Rate - probeRate;
        if (loadRate <= 0 || options.BatchSize < 1 || options.RankRate <= 0 || options.Shown < 1 || options.Candidates < options.Shown || options.Items < options.Candidates)
        {
            throw new ArgumentException($"--rate must exceed the probes' {probeRate:F0} events/s, --batch >= 1, the rank rate > 0, and items >= candidates >= shown >= 1", nameof(options));
        }

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1_024, PooledConnectionLifetime = TimeSpan.FromMinutes(30), UseProxy = false };
        using var a = Commands.CommonOptions.Client(options.Url, options.ApiKey, TimeSpan.FromSeconds(30), handler);
        using var pollHandler = new SocketsHttpHandler { MaxConnectionsPerServer = 4, UseProxy = false };
        using var b = Commands.CommonOptions.Client(options.ReplicaUrl, options.ApiKey, TimeSpan.FromSeconds(5), pollHandler);
        var random = new Random(options.Seed);
        var items = Enumerable.Range(0, options.Items).Select(i => $"lag-item-{i}").ToArray();

        // Both must answer before the clock starts (an unreachable one throws HttpRequestException), and a ranking must
        // exist for the first clicks to name.
        using (var first = await b.GetAsync(StatsPath("lag-none"), cancellationToken))
        {
            first.EnsureSuccessStatusCode();
        }

        await RankAsync(a, RankBody(0, random, items), record: false);
        if (Volatile.Read(ref _rankingsKnown) == 0)
        {
            throw new HttpRequestException($"{options.Url} did not serve the first rank request");
        }

        var total = options.Warmup + options.Duration;
        var started = Stopwatch.GetTimestamp();
        var measureFrom = started + (long)(options.Warmup.TotalSeconds * Stopwatch.Frequency);
        var end = started + (long)(total.TotalSeconds * Stopwatch.Frequency);
        var sending = true;
        var pollGaps = new List<double>();
        var poller = Task.Run(() => PollAsync(b, () => Volatile.Read(ref sending), end, pollGaps), CancellationToken.None);

        var inFlight = new List<Task>();
        var batchInterval = Stopwatch.Frequency * options.BatchSize / loadRate;
        var rankInterval = Stopwatch.Frequency / options.RankRate;
        var probeInterval = Stopwatch.Frequency / probeRate;
        long batches = 0, ranks = 1, probes = 0, measuredProbes = 0, lateSends = 0, maxLag = 0;
        // Wake about every millisecond and send what has come due (a spinning scheduler would take a core from the
        // servers it measures); the loop ends at the schedule's end, bounded in time whatever the servers do.
        while (!cancellationToken.IsCancellationRequested)
        {
            var now = Stopwatch.GetTimestamp();
            if (now >= end)
            {
                break;
            }

            for (long due; (due = started + (long)(probes * probeInterval)) <= now && due < end; probes++)
            {
                var record = due >= measureFrom;
                measuredProbes += record ? 1 : 0;
                Interlocked.Increment(ref _probesPending);
                inFlight.Add(ProbeAsync(a, probes, record));
            }

            for (long due; (due = started + (long)(ranks * rankInterval)) <= now && due < end; ranks++)
            {
                inFlight.Add(RankAsync(a, RankBody(ranks, random, items), due >= measureFrom));
            }

            for (long due; (due = started + (long)(batches * batchInterval)) <= now && due < end; batches++)
            {
                var record = due >= measureFrom;
                inFlight.Add(EventsAsync(a, EventBody(batches, random), record));
                if (record)
                {
                    var lag = Stopwatch.GetTimestamp() - due;
                    maxLag = Math.Max(maxLag, lag);
                    lateSends += lag > LateSendTicks ? 1 : 0;
                }

                if (batches % 100 == 0)
                {
                    progress?.Report(Math.Min(1, Stopwatch.GetElapsedTime(started) / total));
                    inFlight.RemoveAll(t => t.IsCompleted);
                }
            }

            await Task.Delay(1, CancellationToken.None);
        }

        // Every request has the client's timeout (30 s), so this ends; then the poller drains what is still unseen.
        await Task.WhenAll(inFlight);
        Volatile.Write(ref sending, false);
        await poller;
        progress?.Report(1);

        var lags = _lags.ToList();
        var errors = _errors.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var seconds = options.Duration.TotalSeconds;
        return new ReplicaLagResult(
            seconds,
            options.Rate,
            Interlocked.Read(ref _eventsSent),
            Interlocked.Read(ref _eventsAccepted),
            Interlocked.Read(ref _eventsAccepted) / seconds,
            Interlocked.Read(ref _rankRequests),
            measuredProbes,
            lags.Count,
            Interlocked.Read(ref _lost),
            Interlocked.Read(ref _probesFailed),
            LatencySummary.Of(lags),
            lags.Count == 0 ? 0 : lags.Min(),
            options.PollInterval.TotalMilliseconds,
            LatencySummary.Of(pollGaps),
            Interlocked.Read(ref _polls),
            options.ProbeTimeout.TotalSeconds,
            errors.Values.Sum(),
            errors,
            Stopwatch.GetElapsedTime(0, maxLag).TotalMilliseconds,
            lateSends);
    }

    private static string StatsPath(string item) => $"/v1/items/{Uri.EscapeDataString(item)}/stats";

    /// <summary>
    /// The poller: every poll interval, asks B for the oldest accepted probe not yet seen, and on seeing it goes on to the
    /// next at once (B counts a followed page at once, so several come due together). Ends when the senders are done and
    /// no probe is left, or at the schedule's end plus the probe timeout and a margin, whichever is first.
    /// </summary>
    private async Task PollAsync(HttpClient b, Func<bool> sending, long end, List<double> gaps)
    {
        var deadline = end + (long)((options.ProbeTimeout.TotalSeconds + 40) * Stopwatch.Frequency);
        var timeout = (long)(options.ProbeTimeout.TotalSeconds * Stopwatch.Frequency);
        var lastPoll = 0L;
        string? lastItem = null;
        while (Stopwatch.GetTimestamp() < deadline && (sending() || Interlocked.Read(ref _probesPending) > 0 || !_accepted.IsEmpty))
        {
            var tick = Stopwatch.GetTimestamp();
            while (_accepted.TryPeek(out var probe))
            {
                var now = Stopwatch.GetTimestamp();
                if (now - probe.AcceptedAt > timeout)
                {
                    _accepted.TryDequeue(out _);
                    _lost += probe.Record ? 1 : 0;
                    continue;
                }

                // The gap between two polls of one probe is the window its seen time is uncertain by.
                if (ReferenceEquals(probe.Item, lastItem))
                {
                    gaps.Add(Stopwatch.GetElapsedTime(lastPoll, now).TotalMilliseconds);
                }

                (lastPoll, lastItem) = (now, probe.Item);
                _polls++;
                double? clicks;
                try
                {
                    var stats = await b.GetFromJsonAsync(StatsPath(probe.Item), CliJson.Default.ItemStats, CancellationToken.None);
                    clicks = stats?.Overall.Clicks30d;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
                {
                    Count("poll");
                    break;
                }

                if (clicks is not >= 1)
                {
                    break;
                }

                var seen = Stopwatch.GetTimestamp();
                _accepted.TryDequeue(out _);
                if (probe.Record)
                {
                    _lags.Add(Stopwatch.GetElapsedTime(probe.AcceptedAt, seen).TotalMilliseconds);
                }
            }

            var wait = options.PollInterval - Stopwatch.GetElapsedTime(tick);
            await Task.Delay(wait > TimeSpan.FromMilliseconds(1) ? wait : TimeSpan.FromMilliseconds(1), CancellationToken.None);
        }

        // Whatever is left at the deadline was never seen.
        while (_accepted.TryDequeue(out var left))
        {
            _lost += left.Record ? 1 : 0;
        }
    }

    private async Task ProbeAsync(HttpClient a, long index, bool record)
    {
        var item = $"lag-probe-{_run}-{index}";
        var body = JsonSerializer.SerializeToUtf8Bytes(new EventBatch([new InteractionEvent($"lag-{_run}-p{index}", item)]), ClientJson.Default.EventBatch);
        try
        {
            var accepted = await PostEventsAsync(a, body, "probe");
            if (accepted == 1)
            {
                // Enqueued at A's answer, so the queue is in the order A accepted the probes.
                _accepted.Enqueue(new Probe(item, Stopwatch.GetTimestamp(), record));
            }
            else if (record)
            {
                Interlocked.Increment(ref _probesFailed);
            }

            if (record)
            {
                Interlocked.Increment(ref _eventsSent);
                Interlocked.Add(ref _eventsAccepted, accepted);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _probesPending);
        }
    }

    private async Task EventsAsync(HttpClient a, byte[] body, bool record)
    {
        var accepted = await PostEventsAsync(a, body, "events");
        if (record)
        {
            Interlocked.Add(ref _eventsSent, options.BatchSize);
            Interlocked.Add(ref _eventsAccepted, accepted);
            if (accepted is > 0 && accepted < options.BatchSize)
            {
                Count("events rejected", options.BatchSize - accepted);
            }
        }
    }

    /// <summary>Events A accepted of the batch; 0 (and an error counted under <paramref name="kind"/>) when the request failed.</summary>
    private async Task<int> PostEventsAsync(HttpClient a, byte[] body, string kind)
    {
        try
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = Json;
            using var response = await a.PostAsync("/v1/events", content, CancellationToken.None);
            if (!response.IsSuccessStatusCode)
            {
                Count($"{kind} {(int)response.StatusCode}");
                return 0;
            }

            var result = await response.Content.ReadFromJsonAsync(ClientJson.Default.EventBatchResult, CancellationToken.None);
            return result?.Accepted ?? 0;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            Count($"{kind} transport");
            return 0;
        }
    }

    private async Task RankAsync(HttpClient a, RankRequest request, bool record)
    {
        try
        {
            using var response = await a.PostAsJsonAsync("/v1/rank", request, ClientJson.Default.RankRequest, CancellationToken.None);
            if (!response.IsSuccessStatusCode)
            {
                Count($"rank {(int)response.StatusCode}");
                return;
            }

            var ranked = await response.Content.ReadFromJsonAsync(ClientJson.Default.RankResponse, CancellationToken.None);
            if (ranked is { Items.Count: > 0 })
            {
                lock (_rankingsGate)
                {
                    _rankings[_rankingsKnown % RecentRankings] = (ranked.RequestId, request.User.Id, [.. ranked.Items.Select(i => i.Id)]);
                    _rankingsKnown++;
                }
            }

            if (record)
            {
                Interlocked.Increment(ref _rankRequests);
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            Count("rank transport");
        }
    }

    /// <summary>A rank request: <see cref="ReplicaLagOptions.Candidates"/> of the catalog for one of 1,000 users.</summary>
    private RankRequest RankBody(long index, Random random, string[] items)
    {
        var user = random.Next(1_000);
        var order = (string[])items.Clone();
        random.Shuffle(order);
        return new RankRequest
        {
            RequestId = string.Create(CultureInfo.InvariantCulture, $"lag-{_run}-r{index}"),
            User = new UserRef(string.Create(CultureInfo.InvariantCulture, $"lag-u{user}")) { Age = 18 + (user % 50), Gender = user % 2 == 0 ? "f" : "m" },
            Candidates = [.. order.Take(options.Candidates).Select(Candidate.FromString)],
            Count = options.Shown,
        };
    }

    /// <summary>A batch of clicks, each on an item one of the newest rankings showed, naming that ranking and its user.</summary>
    private byte[] EventBody(long batch, Random random)
    {
        var events = new InteractionEvent[options.BatchSize];
        lock (_rankingsGate)
        {
            var known = Math.Min(_rankingsKnown, RecentRankings);
            for (var i = 0; i < events.Length; i++)
            {
                var (requestId, userId, shown) = _rankings[random.Next(known)];
                events[i] = new InteractionEvent(string.Create(CultureInfo.InvariantCulture, $"lag-{_run}-e{batch}-{i}"), shown[random.Next(shown.Length)])
                {
                    RequestId = requestId,
                    UserId = userId,
                };
            }
        }

        return JsonSerializer.SerializeToUtf8Bytes(new EventBatch(events), ClientJson.Default.EventBatch);
    }

    private void Count(string kind, long n = 1) => _errors.AddOrUpdate(kind, n, (_, v) => v + n);

    /// <summary>A probe A accepted: its item, when A's 2xx arrived, and whether it falls in the measured window.</summary>
    private readonly record struct Probe(string Item, long AcceptedAt, bool Record);
}
