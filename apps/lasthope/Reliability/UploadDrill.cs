using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Lasthope.Cli.Reliability;

/// <summary>
/// The upload drill: <see cref="ReliabilityOptions.ParallelUploads"/> uploads of
/// <see cref="ReliabilityOptions.UploadBytes"/> of garbage to POST /v1/models at once (half with Content-Length, half
/// chunked, so the server cannot always refuse from the headers), then one upload of the size limit plus one byte
/// each way. Every upload must be answered 413 (too large) or 429 (another upload is in progress), and the server's
/// resident memory must grow by less than 100 MB from before to after. The server is SIGKILLed should its memory pass
/// <see cref="RssCapBytes"/>, so that a server that buffers uploads cannot take the machine down.
/// </summary>
public sealed class UploadDrill(ReliabilityOptions options) : IDrill
{
    public const double MaxRssGrowthMb = 100;

    /// <summary>The server is killed past this resident size (the drill then fails).</summary>
    public const long RssCapBytes = 4L * 1024 * 1024 * 1024;

    private const int ChunkBytes = 64 * 1024;

    public string Name => "upload";

    public async Task RunAsync(DrillResult result, DrillWorkspace workspace, IProgress<double> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(workspace);
        await using var server = await workspace.StartServerAsync(workspace.NewDataDirectory(), cancellationToken);
        var garbage = new byte[1024 * 1024];
        new Random(options.Seed).NextBytes(garbage);
        for (var i = 0; i < 3; i++)
        {
            // Warm-up: the model endpoints' code paths, with small garbage (refused as not a model).
            await DrillHttp.GetJsonAsync(server.Http, "/v1/models", TimeSpan.FromSeconds(10), cancellationToken);
            await UploadAsync(server, workspace.ApiKey, garbage, 1_024, chunked: i % 2 == 1, cancellationToken);
        }

        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        var rssBefore = server.RssBytes();
        long peak = rssBefore ?? 0;
        var killed = false;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(
            async () =>
            {
                while (!sampling.IsCancellationRequested && !server.HasExited)
                {
                    var rss = server.RssBytes() ?? 0;
                    peak = Math.Max(peak, rss);
                    if (rss > RssCapBytes)
                    {
                        killed = true;
                        result.Note($"the server's RSS reached {DrillResult.Megabytes(rss):F0} MB: SIGKILLed to protect the machine");
                        await server.KillAsync();
                        return;
                    }

                    await Task.Delay(100, CancellationToken.None);
                }
            },
            CancellationToken.None);

        var answers = new ConcurrentBag<UploadAnswer>();
        var parallel = Enumerable.Range(0, options.ParallelUploads)
            .Select(i => UploadAsync(server, workspace.ApiKey, garbage, options.UploadBytes, chunked: i % 2 == 1, cancellationToken))
            .ToList();
        foreach (var answer in await Task.WhenAll(parallel))
        {
            answers.Add(answer);
        }

        progress.Report(0.6);
        foreach (var chunked in new[] { false, true })
        {
            if (!killed && !server.HasExited)
            {
                answers.Add(await UploadAsync(server, workspace.ApiKey, garbage, options.MaxModelBytes + 1, chunked, cancellationToken));
            }
        }

        progress.Report(0.8);
        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken); // settle: what is freed is freed
        await sampling.CancelAsync();
        await sampler;
        var rssAfter = server.HasExited ? null : server.RssBytes();
        var live = !server.HasExited && await DrillHttp.IsLiveAsync(server.Http, options.HangAfter, cancellationToken);

        var all = answers.ToList();
        foreach (var answer in all.Where(a => a.Status is not (413 or 429)))
        {
            result.Note($"upload of {answer.Declared:N0} bytes ({(answer.Chunked ? "chunked" : "Content-Length")}): {answer.Describe()} after {answer.Sent:N0} bytes sent, {answer.Milliseconds:F0} ms");
        }

        var refused = all.Count(a => a.Status is 413 or 429);
        result["uploads"] = all.Count;
        result["answered413"] = all.Count(a => a.Status == 413);
        result["answered429"] = all.Count(a => a.Status == 429);
        result["answeredOther"] = all.Count(a => a.Outcome == RawOutcome.Answered && a.Status is not (413 or 429));
        result["5xx"] = all.Count(a => a.Status >= 500);
        result["closedWithoutAnswer"] = all.Count(a => a.Outcome == RawOutcome.ClosedWithoutAnswer);
        result["hangs"] = all.Count(a => a.Outcome == RawOutcome.Hang);
        result["bytesSentMb"] = DrillResult.Megabytes(all.Sum(a => a.Sent));
        result["slowestUploadMs"] = Math.Round(all.Count == 0 ? 0 : all.Max(a => a.Milliseconds));
        result["rssBeforeMb"] = DrillResult.Megabytes(rssBefore);
        result["rssPeakMb"] = DrillResult.Megabytes(peak);
        result["rssAfterMb"] = DrillResult.Megabytes(rssAfter);
        result["rssGrowthMb"] = Math.Round(result["rssAfterMb"] - result["rssBeforeMb"], 1);
        result["killedAtRssCap"] = killed ? 1 : 0;
        result["liveAfter"] = live ? 1 : 0;

        result.Info("uploads", string.Create(CultureInfo.InvariantCulture, $"{options.ParallelUploads} x {DrillResult.Megabytes(options.UploadBytes):F0} MB in parallel, then 2 x limit + 1 ({DrillResult.Megabytes(options.MaxModelBytes):F0} MB + 1 B)"));
        result.Info("answers", string.Join(", ", all.GroupBy(a => a.Describe()).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} x{g.Count()}")));
        result.Info("sent before the answer", string.Create(CultureInfo.InvariantCulture, $"{result["bytesSentMb"]:F0} MB in all, slowest upload {result["slowestUploadMs"]:F0} ms"));
        result.Expect("uploads answered 413 or 429", refused == all.Count && all.Count > 0, $"{refused} of {all.Count}", "all");
        result.AtMost("5xx answers", result["5xx"], 0);
        result.Info("RSS before / peak / after", string.Create(CultureInfo.InvariantCulture, $"{result["rssBeforeMb"]:F0} / {result["rssPeakMb"]:F0} / {result["rssAfterMb"]:F0} MB"));
        result.Expect(
            "RSS growth (before -> after)",
            rssBefore is not null && rssAfter is not null && result["rssGrowthMb"] < MaxRssGrowthMb,
            rssAfter is null ? "server gone" : string.Create(CultureInfo.InvariantCulture, $"{result["rssGrowthMb"]:F0} MB"),
            string.Create(CultureInfo.InvariantCulture, $"< {MaxRssGrowthMb:F0} MB"));
        result.Expect("live afterwards", live, live ? "yes" : "no", "yes");
    }

    private readonly record struct UploadAnswer(long Declared, bool Chunked, RawOutcome Outcome, int Status, long Sent, double Milliseconds)
    {
        public string Describe() => Outcome == RawOutcome.Answered ? Status.ToString(CultureInfo.InvariantCulture) : Outcome.ToString();
    }

    /// <summary>
    /// Streams <paramref name="bytes"/> of garbage as a model upload, reading the answer all the while; stops sending
    /// as soon as the answer arrives. Bounded in time: at least 30 s, and 5 MB/s for large bodies.
    /// </summary>
    private static async Task<UploadAnswer> UploadAsync(ServerProcess server, string apiKey, byte[] garbage, long bytes, bool chunked, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var limit = TimeSpan.FromSeconds(Math.Max(30, bytes / (5.0 * 1024 * 1024)));
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, LingerState = new LingerOption(true, 0) };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(limit);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.Port), deadline.Token);
        }
        catch (SocketException)
        {
            return new UploadAnswer(bytes, chunked, RawOutcome.ConnectFailed, 0, 0, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        var framing = chunked ? "Transfer-Encoding: chunked" : $"Content-Length: {bytes.ToString(CultureInfo.InvariantCulture)}";
        var head = Encoding.ASCII.GetBytes(
            $"POST /v1/models?surface=home HTTP/1.1\r\nHost: 127.0.0.1:{server.Port.ToString(CultureInfo.InvariantCulture)}\r\nAuthorization: Bearer {apiKey}\r\n" +
            $"Content-Type: application/octet-stream\r\n{framing}\r\n\r\n");
        var reading = RawHttp.ReadStatusAsync(socket, deadline.Token);
        using var sending = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
        _ = reading.ContinueWith(_ => sending.Cancel(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        long sent = 0;
        try
        {
            await socket.SendAsync(head, SocketFlags.None, sending.Token);
            while (sent < bytes && !reading.IsCompleted)
            {
                var n = (int)Math.Min(ChunkBytes, bytes - sent);
                var offset = (int)(sent % (garbage.Length - ChunkBytes));
                if (chunked)
                {
                    await socket.SendAsync(Encoding.ASCII.GetBytes($"{n.ToString("x", CultureInfo.InvariantCulture)}\r\n"), SocketFlags.None, sending.Token);
                }

                await socket.SendAsync(garbage.AsMemory(offset, n), SocketFlags.None, sending.Token);
                if (chunked)
                {
                    await socket.SendAsync("\r\n"u8.ToArray(), SocketFlags.None, sending.Token);
                }

                sent += n;
            }

            if (chunked && !reading.IsCompleted)
            {
                await socket.SendAsync("0\r\n\r\n"u8.ToArray(), SocketFlags.None, sending.Token);
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // Answered (the send was cancelled), reset by the server, or out of time: the reading says which.
        }

        var (outcome, status, _) = await reading;
        return new UploadAnswer(bytes, chunked, outcome, status, sent, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }
}
