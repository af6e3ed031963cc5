using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Lasthope.Cli.Replay;
using Lasthope.Evaluation;
using Lasthope.Server.Models;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary>
/// <c>lasthope replay LOG</c>: serves a historical log again in event time (<see cref="LogReplay"/>) and prints how
/// well the served order, the logged order and a random order agree with the logged clicks.
/// </summary>
internal static class ReplayCommand
{
    public static Command Create(CliContext context)
    {
        var file = new Argument<FileInfo>("log") { Description = "The log: a .jsonl file in the API's schema or a .csv file with a column mapping, as `import` reads them." };
        var config = CommonOptions.Config();
        var policy = new Option<string>("--policy") { Description = "heuristic, or the path of a LightGBM or XGBoost model file to serve on every replayed surface.", DefaultValueFactory = _ => "heuristic" };
        var depth = new Option<int?>("--rerank-depth") { Description = "K: how many of the heuristic's top candidates the model re-ranks (default: the configuration's)." };
        var seed = new Option<int>("--seed") { Description = "Seeds the random order and the bootstrap.", DefaultValueFactory = _ => 42 };
        var json = new Option<string?>("--json") { Description = "Also write the result as JSON to FILE ('-' for standard output)." };
        var command = new Command("replay", "Serve a historical log again in event time, with the counters updated as the events happened, and score the served order against the logged clicks beside the logged and a random order.")
        {
            file, config, policy, depth, seed, json,
        };
        var log = new LogFileOptions();
        log.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var input = parse.GetValue(file)!;
            if (!input.Exists)
            {
                return context.Fail(ExitCodes.NotFound, $"no such file: {input.FullName}");
            }

            if (!log.TryResolve(parse, input, out var mapping, out var problem))
            {
                return context.Fail(ExitCodes.BadInput, problem!);
            }

            if (parse.GetValue(depth) is < 0 or > 100_000)
            {
                return context.Fail(ExitCodes.BadInput, "--rerank-depth must be 0 to 100,000.");
            }

            FileInfo? model = null;
            if (parse.GetValue(policy) is { } name && name != "heuristic")
            {
                model = new FileInfo(name);
                if (!model.Exists)
                {
                    return context.Fail(ExitCodes.BadInput, $"--policy: '{name}' is neither 'heuristic' nor an existing model file");
                }
            }

            try
            {
                ReplayResult result = null!;
                await context.Console.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .StartAsync(async progress =>
                    {
                        var task = progress.AddTask($"Replaying {input.Name}", maxValue: 1);
                        result = await new LogReplay(new ReplayOptions
                        {
                            Log = input,
                            Mapping = mapping,
                            Model = model,
                            RerankDepth = parse.GetValue(depth),
                            ConfigFile = parse.GetValue(config),
                            Seed = parse.GetValue(seed),
                        }).RunAsync(new Progress<(long Done, long Total)>(p => (task.MaxValue, task.Value) = (p.Total, p.Done)), cancellationToken);
                        task.Value = task.MaxValue;
                    });
                Print(context, result);
                if (parse.GetValue(json) is { } path)
                {
                    await context.WriteJsonAsync(path, JsonSerializer.Serialize(result, ReportJson.Default.ReplayResult), cancellationToken);
                }

                return ExitCodes.Ok;
            }
            catch (FormatException e)
            {
                return context.Fail(ExitCodes.BadInput, e.Message);
            }
            catch (ModelRejectedException e)
            {
                return context.Fail(ExitCodes.BadInput, $"--policy: {e.Message}");
            }
            catch (ArgumentException e)
            {
                return context.Fail(ExitCodes.BadInput, CliContext.Invalid(e));
            }
        });
        return command;
    }

    private static void Print(CliContext context, ReplayResult result)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title(Markup.Escape($"{result.Policy}: {result.ScoredRankings:N0} of {result.Rankings:N0} rankings had a click and a non-click"))
            .AddColumns("order", "NDCG@10", "95% interval", "AUC", "95% interval");
        foreach (var order in result.Orders)
        {
            table.AddRow(order.Order, Fixed(order.Ndcg10.Estimate), Markup.Escape(Range(order.Ndcg10)), Fixed(order.Auc.Estimate), Markup.Escape(Range(order.Auc)));
        }

        context.Console.Write(table);
        context.Out.WriteLine($"NDCG@10 served - logged {Fixed(result.NdcgServedMinusLogged.Estimate)} {Range(result.NdcgServedMinusLogged)}; served - random {Fixed(result.NdcgServedMinusRandom.Estimate)} {Range(result.NdcgServedMinusRandom)} (paired)");
        context.Out.WriteLine("served by: " + string.Join(", ", result.ServedBy.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value:N0}")));
        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{result.Clicks:N0} clicks; {result.Import.RejectedLines:N0} of {result.Import.Lines:N0} lines rejected; {result.Seconds:F1} s"));
        if (result.EventsRejected > 0)
        {
            context.Error.WriteLine($"{result.EventsRejected:N0} logged events were refused when replayed (the import accepted them), so the counters did not see them.");
        }
        foreach (var (line, reason) in result.Import.FirstRejections)
        {
            context.Error.WriteLine($"  rejected line {line}: {reason}");
        }
    }

    private static string Fixed(double value) => value.ToString("F4", CultureInfo.InvariantCulture);

    private static string Range(Interval interval) => $"[{Fixed(interval.Lower)}, {Fixed(interval.Upper)}]";
}
