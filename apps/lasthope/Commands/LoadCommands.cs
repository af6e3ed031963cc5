using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Lasthope.Cli.Demo;
using Lasthope.Cli.Load;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary><c>lasthope loadtest</c> (and <c>loadtest lag</c>) and <c>lasthope depth-study</c>: the load and depth tools.</summary>
internal static class LoadCommands
{
    /// <summary>Null for a loopback target; otherwise the refusal. Load and depth tools never leave this machine.</summary>
    internal static int? RefuseUnlessLoopback(CliContext context, Uri target)
        => target.IsLoopback ? null : context.Fail(ExitCodes.BadInput, "--url must be a loopback address (127.0.0.1 or localhost): load tests never leave this machine");

    internal static Option<Uri?> Url() => CommonOptions.Url("--url", "The server (loopback only).", "http://127.0.0.1:8080");

    private static Option<int> Seed() => new("--seed") { Description = "The generator's seed: the demo run's whose history the server holds.", DefaultValueFactory = _ => 42 };

    private static Option<int> PerDay() => new("--requests-per-day") { Description = "The demo run's requests per day (the generator's request numbering).", DefaultValueFactory = _ => 2_000 };

    private static Option<int> Day() => new("--day") { Description = "The simulated day whose requests are sent (the day after the demo's last).", DefaultValueFactory = _ => 14 };

    private static Option<int> Candidates() => new("--candidates") { Description = "Candidates per request.", DefaultValueFactory = _ => 1_000 };

    private static Option<string> Surface() => new("--surface") { Description = "The surface.", DefaultValueFactory = _ => "home" };

    public static Command CreateLoadTest(CliContext context)
    {
        var url = Url();
        var rate = new Option<double>("--rate") { Description = "Requests per second, open loop (0: closed loop with --concurrency).", DefaultValueFactory = _ => 100 };
        var concurrency = new Option<int>("--concurrency") { Description = "Requests in flight in a closed loop.", DefaultValueFactory = _ => 4 };
        var duration = new Option<double>("--duration") { Description = "Seconds measured.", DefaultValueFactory = _ => 30 };
        var warmup = new Option<double>("--warmup") { Description = "Seconds sent before measuring.", DefaultValueFactory = _ => 3 };
        var candidates = Candidates();
        var count = new Option<int>("--count") { Description = "Items returned per request.", DefaultValueFactory = _ => 10 };
        var surface = Surface();
        var depth = new Option<int?>("--rerank-depth") { Description = "K per request (default: the server's)." };
        var seed = Seed();
        var perDay = PerDay();
        var day = Day();
        var json = new Option<string?>("--json") { Description = "Also write the result as JSON to this file." };
        var apiKey = CommonOptions.ApiKey();
        var predict = new Option<string?>("--predict") { Description = "Send POST /v1/predict/NAME requests instead of rank requests, one row of --rows each." };
        var rows = new Option<string?>("--rows") { Description = "With --predict: a CSV whose rows (up to 2,000, named by its header) are the requests' features." };
        var explain = new Option<int>("--explain") { Description = "With --predict: reasons per row.", DefaultValueFactory = _ => 5 };
        var text = new Option<string?>("--text") { Description = "Send POST /v1/text/NAME requests instead of rank requests, one short text each (from --texts, or a built-in set of 20 short complaint-like sentences)." };
        var texts = new Option<string?>("--texts") { Description = "With --text: the texts to cycle through (up to 2,000), a CSV's --text-column or a file of one text per line." };
        var textColumn = new Option<string>("--text-column") { Description = "With --texts FILE.csv: the column of the texts.", DefaultValueFactory = _ => "text" };
        var command = new Command("loadtest", "Drive a running server over loopback at a fixed request rate with the generator's requests (or prediction rows); report throughput and latency per servedBy, and the fallback rate.")
        {
            url, rate, concurrency, duration, warmup, candidates, count, surface, depth, seed, perDay, day, json, apiKey, predict, rows, explain, text, texts, textColumn,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var target = parse.GetValue(url)!;
            if (RefuseUnlessLoopback(context, target) is { } refused)
            {
                return refused;
            }

            if (parse.GetValue(rate) < 0 || parse.GetValue(duration) <= 0 || parse.GetValue(concurrency) < 1)
            {
                return context.Fail(ExitCodes.BadInput, "--rate must be >= 0, --duration > 0, --concurrency >= 1");
            }

            var options = new LoadTestOptions
            {
                Url = target,
                ApiKey = parse.GetValue(apiKey),
                Rate = parse.GetValue(rate),
                Concurrency = parse.GetValue(concurrency),
                Duration = TimeSpan.FromSeconds(parse.GetValue(duration)),
                Warmup = TimeSpan.FromSeconds(parse.GetValue(warmup)),
                Candidates = parse.GetValue(candidates),
                Count = parse.GetValue(count),
                Surface = parse.GetValue(surface)!,
                RerankDepth = parse.GetValue(depth),
                Seed = parse.GetValue(seed),
                RequestsPerDay = parse.GetValue(perDay),
                Day = parse.GetValue(day),
            };
            if (parse.GetValue(predict) is { } predictor)
            {
                if (parse.GetValue(rows) is not { } rowsPath || !File.Exists(rowsPath))
                {
                    return context.Fail(ExitCodes.BadInput, "--predict needs --rows, an existing CSV file of feature rows");
                }

                try
                {
                    options = options with { Predictor = predictor, PredictBodies = PredictBodies.FromCsv(rowsPath, options.Bodies, parse.GetValue(explain)) };
                }
                catch (InvalidDataException e)
                {
                    return context.Fail(ExitCodes.BadInput, e.Message);
                }
            }

            if (parse.GetValue(text) is { } textModel)
            {
                if (options.Predictor is not null || string.IsNullOrWhiteSpace(textModel))
                {
                    return context.Fail(ExitCodes.BadInput, "--text needs a model name and cannot be used with --predict");
                }

                var textsPath = parse.GetValue(texts);
                if (textsPath is not null && !File.Exists(textsPath))
                {
                    return context.Fail(ExitCodes.BadInput, $"--texts: no file {textsPath}");
                }

                try
                {
                    options = options with
                    {
                        TextModel = textModel,
                        TextBodies = textsPath is null ? TextBodies.Of(TextBodies.BuiltIn) : TextBodies.FromFile(textsPath, parse.GetValue(textColumn)!, options.Bodies),
                    };
                }
                catch (InvalidDataException e)
                {
                    return context.Fail(ExitCodes.BadInput, e.Message);
                }
            }
            else if (parse.GetValue(texts) is not null)
            {
                return context.Fail(ExitCodes.BadInput, "--texts needs --text NAME, the text model to send them to");
            }

            LoadTestResult result = null!;
            try
            {
                await context.Console.Progress().StartAsync(async progress =>
                {
                    var task = progress.AddTask(options.Rate > 0 ? $"{options.Rate:N0} requests/s" : $"closed loop, {options.Concurrency} in flight", maxValue: 1);
                    result = await new LoadTester(options).RunAsync(new Progress<double>(p => task.Value = p), cancellationToken);
                });
            }
            catch (HttpRequestException e)
            {
                return context.Fail(ExitCodes.Failure, $"the server did not answer: {e.Message}");
            }

            Print(context, result);
            if (parse.GetValue(json) is { } file)
            {
                await File.WriteAllTextAsync(file, JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }), cancellationToken);
            }

            return result.Errors > 0 ? ExitCodes.Failure : ExitCodes.Ok;
        });
        command.Add(LagCommand.Create(context));
        return command;
    }

    public static Command CreateDepthStudy(CliContext context)
    {
        var url = Url();
        var depths = new Option<string>("--depths") { Description = "Re-rank depths K, comma-separated; 0 is the heuristic alone.", DefaultValueFactory = _ => "0,100,300,1000" };
        var requests = new Option<int>("--requests") { Description = "Requests per depth (the same ones for every depth).", DefaultValueFactory = _ => 300 };
        var candidates = Candidates();
        var surface = Surface();
        var seed = Seed();
        var perDay = PerDay();
        var day = Day();
        var apiKey = CommonOptions.ApiKey();
        var command = new Command("depth-study", "For each re-rank depth K: latency percentiles and NDCG@10 against the generator's truth, paired with the heuristic alone.")
        {
            url, depths, requests, candidates, surface, seed, perDay, day, apiKey,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var target = parse.GetValue(url)!;
            if (RefuseUnlessLoopback(context, target) is { } refused)
            {
                return refused;
            }

            int[] ks;
            try
            {
                ks = [.. parse.GetValue(depths)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(k => int.Parse(k, CultureInfo.InvariantCulture))];
            }
            catch (FormatException)
            {
                return context.Fail(ExitCodes.BadInput, "--depths must be integers separated by commas");
            }

            var study = new DepthStudy(new DepthStudyOptions
            {
                Url = target,
                ApiKey = parse.GetValue(apiKey),
                Depths = ks,
                Requests = parse.GetValue(requests),
                Candidates = parse.GetValue(candidates),
                Surface = parse.GetValue(surface)!,
                Seed = parse.GetValue(seed),
                RequestsPerDay = parse.GetValue(perDay),
                Day = parse.GetValue(day),
            });
            IReadOnlyList<DepthResult> results = [];
            await context.Console.Progress().StartAsync(async progress =>
            {
                var task = progress.AddTask("Depth study", maxValue: 1);
                results = await study.RunAsync(new Progress<double>(p => task.Value = p), cancellationToken);
            });
            context.Out.WriteLine("K      NDCG@10 [95% CI]           vs heuristic alone [95% CI]   server p50   p90      p99      depth reached  served by");
            foreach (var r in results)
            {
                context.Out.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{r.Depth,-6} {r.Ndcg10,-26} {(r.Depth == 0 ? "(baseline)" : r.DifferenceFromHeuristic.ToString()),-29} {r.Server.P50,8:F2}ms {r.Server.P90,6:F2}ms {r.Server.P99,6:F2}ms {r.MeanDepthReached,10:F0}     {string.Join(", ", r.ServedBy.Select(p => $"{p.Key} {p.Value}"))}"));
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Print(CliContext context, LoadTestResult r)
    {
        var o = context.Out;
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"measured {r.Seconds:F0} s: {r.Completed:N0} responses ({r.Throughput:F1}/s), {r.Refused:N0} refused at the door (503), {r.Errors} errors, {r.Sent:N0} sent in all"));
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fallback rate {r.FallbackRate:P2} of model-path requests; reasons: {(r.FallbackReasons.Count == 0 ? "none" : string.Join(", ", r.FallbackReasons.Select(p => $"{p.Key} {p.Value}")))}"));
        if (r.Sent > 0 && r.MaxSendLagMs > 0)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"load generator: {r.LateSends:N0} sends more than 10 ms behind schedule, the latest {r.MaxSendLagMs:F1} ms"));
        }

        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"within budget {r.WithinBudget:N0} ({r.Goodput:F1}/s), later than budget + 5 ms {r.Late:N0}; refusals: server p99 {r.RefusedServer.P99:F2} ms, max {r.RefusedServer.Max:F2} ms, client from send p99 {r.RefusedClient.P99:F2} ms"));
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"client round trip from the actual send (without the generator's lag): p50 {r.ClientFromSend.P50:F2} ms, p99 {r.ClientFromSend.P99:F2} ms, p99.9 {r.ClientFromSend.P999:F2} ms"));
        o.WriteLine("path                 requests   server p50   p99      p99.9    max      | client p50   p99      p99.9");
        foreach (var (path, s) in r.ByPath.Prepend(new KeyValuePair<string, PathStats>("all", new PathStats(r.Completed, r.Server, r.Client))))
        {
            o.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{path,-20} {s.Requests,8:N0}   {s.Server.P50,8:F2}ms {s.Server.P99,6:F2}ms {s.Server.P999,6:F2}ms {s.Server.Max,6:F2}ms | {s.Client.P50,8:F2}ms {s.Client.P99,6:F2}ms {s.Client.P999,6:F2}ms"));
        }

        if (r.Encoder is { } encoder)
        {
            PrintText(context, r, encoder);
        }
    }

    /// <summary>Text mode: the figures of the text bar (p50/p95/p99/max) and the share of each served path.</summary>
    private static void PrintText(CliContext context, LoadTestResult r, LatencySummary encoder)
    {
        var o = context.Out;
        static string Line(string name, LatencySummary s) =>
            string.Create(CultureInfo.InvariantCulture, $"{name,-28} p50 {s.P50,7:F2} ms   p95 {s.P95,7:F2} ms   p99 {s.P99,7:F2} ms   max {s.Max,7:F2} ms");
        o.WriteLine(Line("client from send", r.ClientFromSend));
        o.WriteLine(Line("server timings.total", r.Server));
        o.WriteLine(Line("server encoder (model path)", encoder));
        long Count(string path) => r.ByPath.TryGetValue(path, out var s) ? s.Requests : 0;
        double Share(long n) => r.Completed == 0 ? 0 : (double)n / r.Completed;
        var model = Count("model");
        var fallback = Count("heuristic_fallback");
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"served by model (encoder) {model:N0} ({Share(model):P2}), heuristic_fallback (TF-IDF) {fallback:N0} ({Share(fallback):P2})"));
    }
}
