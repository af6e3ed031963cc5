using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Lasthope.Cli.Demo;

namespace Lasthope.Cli.Reliability;

/// <summary>
/// The slow-client drill: <see cref="ReliabilityOptions.SlowConnections"/> connections send a rank request's headers
/// and then trickle its body at about 500 bytes/s (above Kestrel's default minimum data rate, so nothing times them out
/// for being slow; a server that wants a higher rate must say so itself), while ordinary rank requests probe the
/// server at 20 a second. A connection the server answers or closes is opened again, as an attacker would, so the
/// number stays up. At least 99% of the probes must be answered (200) in under 100 ms.
/// </summary>
public sealed class SlowClientDrill(ReliabilityOptions options) : IDrill
{
    public const double ProbeBarMs = 100;
    public const double ProbeShareBar = 0.99;

    private const int BodyBytes = 64 * 1024;
    private const int TrickleBytes = 50;
    private const int MaxReconnects = 200;
    private static readonly TimeSpan TrickleEvery = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan ProbeEvery = TimeSpan.FromMilliseconds(50);

    public string Name => "slow";

    public async Task RunAsync(DrillResult result, DrillWorkspace workspace, IProgress<double> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(workspace);
        await using var server = await workspace.StartServerAsync(workspace.NewDataDirectory(), cancellationToken);
        await ProbeAsync(server, 50, cancellationToken); // warm-up: JIT, connections
        var baseline = await ProbeAsync(server, 100, cancellationToken);

        var slow = new SlowState();
        using var stop = new CancellationTokenSource();
        var connections = Enumerable.Range(0, options.SlowConnections).Select(i => SlowConnectionAsync(server.Port, workspace.ApiKey, i, slow, stop.Token)).ToList();
        var opening = Stopwatch.GetTimestamp();
        while (Volatile.Read(ref slow.Open) < options.SlowConnections && Stopwatch.GetElapsedTime(opening) < TimeSpan.FromSeconds(15))
        {
            await Task.Delay(100, cancellationToken);
        }

        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken); // every connection has trickled a little
        var openAtStart = Volatile.Read(ref slow.Open);
        var fewestOpen = openAtStart;
        var probes = (int)(options.SlowProbeDuration / ProbeEvery);
        var probing = ProbeAsync(server, probes, cancellationToken, p => progress.Report(p));
        while (!probing.IsCompleted)
        {
            fewestOpen = Math.Min(fewestOpen, Volatile.Read(ref slow.Open));
            await Task.WhenAny(probing, Task.Delay(200, cancellationToken));
        }

        var under = await probing;
        await stop.CancelAsync();
        await Task.WhenAll(connections).WaitAsync(TimeSpan.FromSeconds(15), cancellationToken);
        var live = await DrillHttp.IsLiveAsync(server.Http, options.HangAfter, cancellationToken);

        result["slowConnections"] = options.SlowConnections;
        result["slowOpenAtStart"] = openAtStart;
        result["slowFewestOpen"] = fewestOpen;
        result["slowReconnects"] = slow.Reconnects;
        foreach (var (status, count) in slow.Answers)
        {
            result[$"slowAnswered.{status}"] = count;
        }

        result["baselineShareUnder100Ms"] = Math.Round(baseline.Share, 4);
        result["probes"] = under.Probes;
        result["probesOk"] = under.Ok;
        result["probesRefused"] = under.Refused;
        result["probesFailed"] = under.Failed;
        result["shareUnder100Ms"] = Math.Round(under.Share, 4);
        result["probeP50Ms"] = Math.Round(under.Latency.P50, 1);
        result["probeP99Ms"] = Math.Round(under.Latency.P99, 1);
        result["probeMaxMs"] = Math.Round(under.Latency.Max, 1);
        result["probeServerP99Ms"] = Math.Round(under.Server.P99, 1);
        result["probeServerMaxMs"] = Math.Round(under.Server.Max, 1);
        result["baselineP99Ms"] = Math.Round(baseline.Latency.P99, 1);
        result["liveAfter"] = live ? 1 : 0;

        result.Info("slow connections open at start / fewest", $"{openAtStart:N0} / {fewestOpen:N0} of {options.SlowConnections:N0}");
        result.Info("slow connections answered by the server", slow.Answers.IsEmpty ? "none" : string.Join(", ", slow.Answers.OrderBy(a => a.Key).Select(a => $"{a.Key} x{a.Value:N0}")));
        result.Info("probes without slow clients: share < 100 ms, p99", string.Create(CultureInfo.InvariantCulture, $"{baseline.Share:P1}, {baseline.Latency.P99:F1} ms"));
        result.Info("probes: ok / refused (503) / failed", $"{under.Ok:N0} / {under.Refused:N0} / {under.Failed:N0} of {under.Probes:N0}");
        result.Info("probe latency p50 / p99 / max", string.Create(CultureInfo.InvariantCulture, $"{under.Latency.P50:F1} / {under.Latency.P99:F1} / {under.Latency.Max:F0} ms"));
        result.Info("the same inside the server (timings.total)", string.Create(CultureInfo.InvariantCulture, $"{under.Server.P50:F1} / {under.Server.P99:F1} / {under.Server.Max:F0} ms"));
        result.Expect("probes answered 200 in < 100 ms", under.Share >= ProbeShareBar, under.Share.ToString("P1", CultureInfo.InvariantCulture), $">= {ProbeShareBar:P0}");
        result.Expect("live afterwards", live, live ? "yes" : "no", "yes");
    }

    /// <summary>What a run of probes saw. Share is the fraction answered 200 in under <see cref="ProbeBarMs"/>.</summary>
    /// <param name="Server">The server's own figure for the answered probes (timings.total: from arrival to response, inside the server).</param>
    private sealed record ProbeResult(int Probes, int Ok, int Refused, int Failed, double Share, LatencySummary Latency, LatencySummary Server);

    /// <summary>
    /// <paramref name="count"/> rank requests of 100 candidates, one every 50 ms whatever the answers do (open loop:
    /// a stalled server gets more requests in flight, not fewer), each allowed <see cref="ReliabilityOptions.HangAfter"/>.
    /// </summary>
    private async Task<ProbeResult> ProbeAsync(ServerProcess server, int count, CancellationToken cancellationToken, Action<double>? progress = null)
    {
        var candidates = new JsonArray([.. Enumerable.Range(0, 100).Select(i => (JsonNode)$"slow-i{i.ToString(CultureInfo.InvariantCulture)}")]);
        var latencies = new ConcurrentBag<double>();
        var inside = new ConcurrentBag<double>();
        int ok = 0, under = 0, refused = 0, failed = 0;
        var started = Stopwatch.GetTimestamp();
        var sent = new List<Task>(count);
        for (var i = 0; i < count; i++)
        {
            var due = ProbeEvery * i;
            var wait = due - Stopwatch.GetElapsedTime(started);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }

            var body = new JsonObject
            {
                ["surface"] = "home",
                ["user"] = new JsonObject { ["id"] = $"probe-{(i % 50).ToString(CultureInfo.InvariantCulture)}", ["age"] = 30, ["gender"] = "f" },
                ["candidates"] = candidates.DeepClone(),
                ["count"] = 10,
            }.ToJsonString();
            sent.Add(Task.Run(
                async () =>
                {
                    var at = Stopwatch.GetTimestamp();
                    try
                    {
                        var (status, answer) = await DrillHttp.PostJsonAsync(server.Http, "/v1/rank", body, options.HangAfter, cancellationToken);
                        var ms = Stopwatch.GetElapsedTime(at).TotalMilliseconds;
                        latencies.Add(ms);
                        if (status == HttpStatusCode.OK)
                        {
                            if (answer.TryGetProperty("timings", out var timings) && timings.TryGetProperty("total", out var total))
                            {
                                inside.Add(total.GetDouble());
                            }

                            Interlocked.Increment(ref ok);
                            if (ms < ProbeBarMs)
                            {
                                Interlocked.Increment(ref under);
                            }
                        }
                        else if (status == HttpStatusCode.ServiceUnavailable)
                        {
                            Interlocked.Increment(ref refused);
                        }
                        else
                        {
                            Interlocked.Increment(ref failed);
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or TimeoutException)
                    {
                        latencies.Add(Stopwatch.GetElapsedTime(at).TotalMilliseconds);
                        Interlocked.Increment(ref failed);
                    }
                },
                cancellationToken));
            if (i % 20 == 0)
            {
                progress?.Invoke((double)i / count);
            }
        }

        await Task.WhenAll(sent);
        return new ProbeResult(count, ok, refused, failed, count == 0 ? 0 : (double)under / count, LatencySummary.Of([.. latencies]), LatencySummary.Of([.. inside]));
    }

    /// <summary>
    /// One slow connection: headers at once, then the body 50 bytes every 100 ms. When the server answers or closes
    /// it, the answer is counted and the connection made again (at most <see cref="MaxReconnects"/> times).
    /// </summary>
    private static async Task SlowConnectionAsync(int port, string apiKey, int slot, SlowState state, CancellationToken stop)
    {
        var json = Encoding.UTF8.GetBytes($"{{\"surface\":\"home\",\"user\":{{\"id\":\"slow-{slot.ToString(CultureInfo.InvariantCulture)}\"}},\"candidates\":[\"slow-a\",\"slow-b\"]}}");
        var body = new byte[BodyBytes];
        body.AsSpan().Fill((byte)' '); // trailing whitespace: the body stays valid JSON however much of it arrives
        json.CopyTo(body, 0);
        var head = Encoding.ASCII.GetBytes(
            $"POST /v1/rank HTTP/1.1\r\nHost: 127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}\r\nAuthorization: Bearer {apiKey}\r\n" +
            $"Content-Type: application/json\r\nContent-Length: {BodyBytes.ToString(CultureInfo.InvariantCulture)}\r\n\r\n");
        for (var attempt = 0; attempt <= MaxReconnects && !stop.IsCancellationRequested; attempt++)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, LingerState = new LingerOption(true, 0) };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), stop);
                await socket.SendAsync(head, SocketFlags.None, stop);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                state.Answered("refused connection");
                await Delay(stop);
                continue;
            }

            Interlocked.Increment(ref state.Open);
            using var readStop = CancellationTokenSource.CreateLinkedTokenSource(stop);
            var reading = RawHttp.ReadStatusAsync(socket, readStop.Token);
            try
            {
                for (var offset = 0; offset < body.Length && !reading.IsCompleted && !stop.IsCancellationRequested; offset += TrickleBytes)
                {
                    await socket.SendAsync(body.AsMemory(offset, Math.Min(TrickleBytes, body.Length - offset)), SocketFlags.None, stop);
                    await Task.Delay(TrickleEvery, stop);
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
            }
            finally
            {
                Interlocked.Decrement(ref state.Open);
            }

            if (stop.IsCancellationRequested)
            {
                return;
            }

            readStop.CancelAfter(TimeSpan.FromSeconds(1));
            var (outcome, status, _) = await reading;
            state.Answered(outcome == RawOutcome.Answered ? status.ToString(CultureInfo.InvariantCulture) : "closed");
            if (attempt < MaxReconnects)
            {
                Interlocked.Increment(ref state.Reconnects);
            }
        }
    }

    private static async Task Delay(CancellationToken stop)
    {
        try
        {
            await Task.Delay(200, stop);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private sealed class SlowState
    {
        public int Open;
        public int Reconnects;

        public ConcurrentDictionary<string, int> Answers { get; } = new(StringComparer.Ordinal);

        public void Answered(string what) => Answers.AddOrUpdate(what, 1, (_, n) => n + 1);
    }
}
