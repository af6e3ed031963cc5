using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Lasthope.Cli.Load;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary><c>lasthope loadtest lag</c>: the lag from an event accepted by one replica to its count in another.</summary>
internal static class LagCommand
{
    public static Command Create(CliContext context)
    {
        var url = LoadCommands.Url();
        url.Description = "The replica the events are posted to (loopback only).";
        var replica = CommonOptions.Url("--replica-url", "The replica on the same store whose counts are polled (loopback only).");
        replica.Required = true;
        var rate = new Option<double>("--rate") { Description = "Events per second posted to --url in all, probes included (open loop).", DefaultValueFactory = _ => 1_000 };
        var duration = new Option<double>("--duration") { Description = "Seconds measured.", DefaultValueFactory = _ => 60 };
        var warmup = new Option<double>("--warmup") { Description = "Seconds of load before measuring (its probes are not counted).", DefaultValueFactory = _ => 5 };
        var batch = new Option<int>("--batch") { Description = "Events per POST /v1/events of the load; each probe is a request of its own.", DefaultValueFactory = _ => 10 };
        var rankRate = new Option<double>("--rank-rate") { Description = "Rank requests per second to --url, whose shown items the load's clicks name.", DefaultValueFactory = _ => 50 };
        var probeEvery = new Option<double>("--probe-interval-ms") { Description = "One probe event every this many milliseconds.", DefaultValueFactory = _ => 50 };
        var pollEvery = new Option<double>("--poll-interval-ms") { Description = "How often --replica-url is polled for the oldest probe not yet seen: the lag's resolution.", DefaultValueFactory = _ => 10 };
        var timeout = new Option<double>("--probe-timeout") { Description = "Seconds after which a probe the replica has not counted is lost.", DefaultValueFactory = _ => 10 };
        var seed = new Option<int>("--seed") { Description = "Seeds the rank requests and the clicks.", DefaultValueFactory = _ => 42 };
        var json = new Option<string?>("--json") { Description = "Also write the result as JSON to this file." };
        var apiKey = CommonOptions.ApiKey();
        var command = new Command("lag", "Replica lag: events posted to one replica at a fixed rate, with a probe click every 50 ms whose count is polled on another replica of the same store; reports the lag from the first's 2xx to the second's count (p50/p90/p99/max), probes lost, the rate achieved and errors.")
        {
            url, replica, rate, duration, warmup, batch, rankRate, probeEvery, pollEvery, timeout, seed, json, apiKey,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var target = parse.GetValue(url)!;
            var follower = parse.GetValue(replica)!;
            if (LoadCommands.RefuseUnlessLoopback(context, target) is { } refused)
            {
                return refused;
            }

            if (!follower.IsLoopback)
            {
                return context.Fail(ExitCodes.BadInput, "--replica-url must be a loopback address (127.0.0.1 or localhost): load tests never leave this machine");
            }

            if (parse.GetValue(duration) <= 0 || parse.GetValue(warmup) < 0 || parse.GetValue(batch) < 1 || parse.GetValue(rankRate) <= 0
                || parse.GetValue(probeEvery) < 1 || parse.GetValue(pollEvery) < 1 || parse.GetValue(timeout) <= 0 || parse.GetValue(rate) <= 1_000 / parse.GetValue(probeEvery))
            {
                return context.Fail(ExitCodes.BadInput, "--duration, --rank-rate and --probe-timeout must be > 0, --warmup >= 0, --batch >= 1, the intervals >= 1 ms, and --rate above the probes' own rate");
            }

            var options = new ReplicaLagOptions
            {
                Url = target,
                ReplicaUrl = follower,
                ApiKey = parse.GetValue(apiKey),
                Rate = parse.GetValue(rate),
                Duration = TimeSpan.FromSeconds(parse.GetValue(duration)),
                Warmup = TimeSpan.FromSeconds(parse.GetValue(warmup)),
                BatchSize = parse.GetValue(batch),
                RankRate = parse.GetValue(rankRate),
                ProbeInterval = TimeSpan.FromMilliseconds(parse.GetValue(probeEvery)),
                PollInterval = TimeSpan.FromMilliseconds(parse.GetValue(pollEvery)),
                ProbeTimeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
                Seed = parse.GetValue(seed),
            };
            ReplicaLagResult result = null!;
            try
            {
                await context.Console.Progress().StartAsync(async progress =>
                {
                    var task = progress.AddTask($"{options.Rate:N0} events/s to {target.Authority}, probes read on {follower.Authority}", maxValue: 1);
                    result = await new ReplicaLag(options).RunAsync(new Progress<double>(p => task.Value = p), cancellationToken);
                });
            }
            catch (HttpRequestException e)
            {
                return context.Fail(ExitCodes.Failure, $"a replica did not answer: {e.Message}");
            }

            Print(context, result);
            if (parse.GetValue(json) is { } file)
            {
                await File.WriteAllTextAsync(file, JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }), cancellationToken);
            }

            return result.Errors > 0 || result.ProbesLost > 0 || result.ProbesSeen == 0 ? ExitCodes.Failure : ExitCodes.Ok;
        });
        return command;
    }

    private static void Print(CliContext context, ReplicaLagResult r)
    {
        var o = context.Out;
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"measured {r.Seconds:F0} s: {r.EventsAccepted:N0} events accepted of {r.EventsSent:N0} sent ({r.EventsPerSecond:F1} events/s; target {r.TargetRate:F0}/s), {r.RankRequests:N0} rank requests"));
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"probes {r.Probes:N0}: {r.ProbesSeen:N0} seen, {r.ProbesLost} not seen within {r.ProbeTimeoutSeconds:F0} s, {r.ProbesFailed} not accepted"));
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"lag (accepted by A to counted by B): p50 {r.Lag.P50:F1} ms   p90 {r.Lag.P90:F1} ms   p99 {r.Lag.P99:F1} ms   max {r.Lag.Max:F1} ms   (min {r.MinLagMs:F1} ms)"));
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"resolution: polled every {r.PollIntervalMs:F0} ms; actual gap between two polls of one probe p50 {r.PollGap.P50:F1} ms, p99 {r.PollGap.P99:F1} ms, max {r.PollGap.Max:F1} ms ({r.Polls:N0} polls)"));
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"errors {r.Errors}{(r.Errors == 0 ? "" : ": " + string.Join(", ", r.ErrorsByKind.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}")))}"));
        if (r.MaxSendLagMs > 0)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"load generator: {r.LateSends:N0} batches sent more than 10 ms behind schedule, the latest {r.MaxSendLagMs:F1} ms"));
        }
    }
}
