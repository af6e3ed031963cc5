using System.CommandLine;
using System.Globalization;
using Lasthope.Cli.Demo;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary><c>lasthope demo</c>: the main job on the embedded default, end to end, in a few minutes.</summary>
internal static class DemoCommand
{
    public static Command Create(CliContext context)
    {
        var days = new Option<int>("--days") { Description = "Simulated days of traffic.", DefaultValueFactory = _ => 21 };
        var perDay = new Option<int>("--requests-per-day") { Description = "Rank requests per simulated day.", DefaultValueFactory = _ => 4_000 };
        var seed = new Option<int>("--seed") { Description = "Seed of the traffic generator.", DefaultValueFactory = _ => 42 };
        var concurrency = new Option<int>("--concurrency") { Description = "Requests in flight.", DefaultValueFactory = _ => 4 };
        var data = new Option<string?>("--data") { Description = "Data directory (default: a new temporary directory)." };
        var candidates = new Option<int>("--candidates") { Description = "Candidates per rank request.", DefaultValueFactory = _ => 200 };
        var surface = new Option<string>("--surface") { Description = "The surface the traffic is ranked on.", DefaultValueFactory = _ => "demo" };
        var scenario = new Option<string>("--scenario") { Description = "main (the default: what the heuristic learns), or ab-test: the talk's experiment (history with exploration, a model trained on it, heuristic against model at K = 1000 then K = 300, the readouts, a depth study), or ltv: players' lifetime value (a seeded player simulator, a 90-day revenue model and a whale classifier trained on old cohorts, compared with the BI heuristic on new ones).", DefaultValueFactory = _ => "main" };
        scenario.AcceptOnlyFromAmong("main", "ab-test", "ltv");
        var phaseDays = new Option<int>("--phase-days") { Description = "ab-test: days of each experiment phase.", DefaultValueFactory = _ => 3 };
        var json = new Option<string?>("--json") { Description = "ab-test: also write the result as JSON to FILE ('-' for standard output)." };
        var html = new Option<string?>("--html") { Description = "ltv: write the BI report (LTV by cohort, predicted against actual, decile lift, whale precision) as one self-contained HTML page." };
        var playersPerDay = new Option<int>("--players-per-day") { Description = "ltv: installs per simulated day.", DefaultValueFactory = _ => 5_000 };
        var items = new Option<bool>("--items") { Description = "main: also post each item's attributes (category, price, quality_signal) through POST /v1/items as it enters the catalogue." };
        var command = new Command("demo", "Start Lasthope on the embedded store, drive it over HTTP with simulated weeks of traffic, and show what it learned.")
        {
            days, perDay, seed, concurrency, data, candidates, surface, scenario, phaseDays, json, items, html, playersPerDay,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(scenario) == "ltv")
            {
                var ltv = new LtvOptions { Seed = parse.GetValue(seed), PlayersPerDay = parse.GetValue(playersPerDay), DataDirectory = parse.GetValue(data), Threads = Math.Max(1, Environment.ProcessorCount) };
                return await LtvOutput.RunAsync(context, ltv, parse.GetValue(html), cancellationToken);
            }

            if (parse.GetValue(scenario) == "ab-test")
            {
                var abTest = new AbTestOptions
                {
                    HistoryDays = parse.GetResult(days) is { Implicit: false } ? parse.GetValue(days) : 21,
                    PhaseDays = parse.GetValue(phaseDays),
                    RequestsPerDay = parse.GetResult(perDay) is { Implicit: false } ? parse.GetValue(perDay) : 4_000,
                    Candidates = parse.GetResult(candidates) is { Implicit: false } ? parse.GetValue(candidates) : 1_000,
                    Seed = parse.GetValue(seed),
                    Concurrency = parse.GetResult(concurrency) is { Implicit: false } ? parse.GetValue(concurrency) : Environment.ProcessorCount,
                    DataDirectory = parse.GetValue(data),
                };
                return await AbTestOutput.RunAsync(context, abTest, parse.GetValue(json), cancellationToken);
            }

            var options = new DemoOptions
            {
                Days = parse.GetValue(days),
                RequestsPerDay = parse.GetValue(perDay),
                Seed = parse.GetValue(seed),
                Concurrency = parse.GetValue(concurrency),
                DataDirectory = parse.GetValue(data),
                CandidatesPerRequest = parse.GetValue(candidates),
                Surface = parse.GetValue(surface)!,
                PostItems = parse.GetValue(items),
            };
            try
            {
                options.Validate();
            }
            catch (ArgumentException e)
            {
                return context.Fail(ExitCodes.BadInput, e.Message);
            }

            DemoResult result = null!;
            await context.Console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask($"Simulating {options.Days} days x {options.RequestsPerDay:N0} requests", maxValue: options.Days);
                    result = await new DemoRunner(options).RunAsync(_ => task.Increment(1), cancellationToken);
                });
            Print(context, result);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Print(CliContext context, DemoResult result)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(context.Out) });
        console.Profile.Width = Math.Max(console.Profile.Width, 140);
        console.MarkupLine($"[bold]What Lasthope learned[/] after {result.Requests:N0} rank requests and {result.Clicks:N0} clicks ({result.WallTime.TotalSeconds:F0} s wall time):");
        var table = new Table().AddColumns("segment", "overlap@10 with the true top 10", "Lasthope's top 3", "true top 3");
        foreach (var s in result.Segments)
        {
            table.AddRow(s.Segment, s.Overlap.ToString("P0", CultureInfo.InvariantCulture), string.Join(", ", s.LearnedTop.Take(3)), string.Join(", ", s.TrueTop.Take(3)));
        }

        table.AddRow("[bold]mean[/]", $"[bold]{result.MeanOverlap.ToString("P0", CultureInfo.InvariantCulture)}[/]", $"chance: {result.ChanceOverlap.ToString("P1", CultureInfo.InvariantCulture)}", "");
        console.Write(table);
        var latency = new Table().AddColumns("latency (ms)", "p50", "p90", "p99", "p99.9", "max");
        AddLatency(latency, "server (rank pipeline)", result.ServerLatency);
        AddLatency(latency, "client round trip (loopback)", result.RoundTripLatency);
        console.Write(latency);
        var status = result.Status;
        console.MarkupLine($"The store holds {status.Rankings:N0} rankings, {status.Impressions:N0} impressions, {status.Events:N0} events and {status.Users:N0} users; {status.TrackedItems:N0} items are tracked.");
        console.MarkupLine($"Data directory: [blue]{Markup.Escape(result.DataDirectory)}[/] (try: ./lasthope stats ITEM --data {Markup.Escape(result.DataDirectory)})");
        console.MarkupLine($"The simulated clock ended at {result.SimulatedEnd:O} (serve this history with: ./lasthope serve --data {Markup.Escape(result.DataDirectory)} --clock-start {result.SimulatedEnd:O})");
    }

    private static void AddLatency(Table table, string name, LatencySummary l)
        => table.AddRow(name, F(l.P50), F(l.P90), F(l.P99), F(l.P999), F(l.Max));

    private static string F(double v) => v.ToString("F2", CultureInfo.InvariantCulture);
}
