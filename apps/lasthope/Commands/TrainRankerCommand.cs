using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Lasthope.Core.Storage;
using Lasthope.Evaluation;
using Lasthope.Server.Cascade;
using Lasthope.Server.Hosting;
using Lasthope.Server.Models;
using Lasthope.Server.State;
using Lasthope.Training;
using Lasthope.Trees;
using Lasthope.Trees.Native;
using Microsoft.Extensions.Logging.Abstractions;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary>
/// <c>lasthope train-ranker</c>: trains a LambdaMART re-ranker from the features Lasthope logged while serving, and the
/// clicks attributed to those rankings; compares it on a later validation window with the heuristic it would replace,
/// with bootstrap intervals; writes the model, and optionally registers and activates it.
/// </summary>
internal static class TrainRankerCommand
{
    public static Command Create(CliContext context)
    {
        var data = CommonOptions.Data();
        var config = CommonOptions.Config();
        var surface = new Option<string>("--surface") { Description = "The surface whose logged rankings are the training data.", DefaultValueFactory = _ => "default" };
        var output = new Option<string>("--out", "-o") { Description = "Where to write the model (LightGBM text).", Required = true };
        var days = new Option<double>("--days") { Description = "Train on the last N days of the log (event time, up to its newest ranking).", DefaultValueFactory = _ => 30 };
        var validFraction = new Option<double>("--valid-fraction") { Description = "The latest share of queries, held out for validation and the comparison with the heuristic.", DefaultValueFactory = _ => 0.2 };
        var trees = new Option<int>("--trees") { Description = "Boosting iterations (trees).", DefaultValueFactory = _ => 500 };
        var leaves = new Option<int>("--num-leaves") { Description = "Leaves per tree.", DefaultValueFactory = _ => 63 };
        var learningRate = new Option<double>("--learning-rate") { Description = "Shrinkage.", DefaultValueFactory = _ => 0.05 };
        var minData = new Option<int>("--min-data-in-leaf") { Description = "Minimum rows per leaf.", DefaultValueFactory = _ => 20 };
        var threads = new Option<int>("--threads") { Description = "Training threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var seed = new Option<int>("--seed") { Description = "Seed.", DefaultValueFactory = _ => 42 };
        var noPositions = new Option<bool>("--no-positions") { Description = "Do not correct for position bias (LightGBM's position field)." };
        var register = new Option<bool>("--register") { Description = "Register the model in the store for the surface." };
        var activate = new Option<bool>("--activate") { Description = "Register and activate it (the server loads it at its next start)." };
        var traffic = new Option<TrainingTraffic>("--traffic") { Description = "Which rankings to learn from: auto (explored ones when at least 20 have clicks, else all), explored, all.", DefaultValueFactory = _ => TrainingTraffic.Auto };
        var featureList = new Option<string?>("--features") { Description = "The columns to train on, comma-separated (default: every built-in feature and the surface's request features)." };
        var command = new Command("train-ranker", "Train a LambdaMART re-ranker (LightGBM) from the features logged while serving; compare it with the heuristic on a later window.")
        {
            data, config, surface, output, days, validFraction, trees, leaves, learningRate, minData, threads, seed, noPositions, traffic, register, activate, featureList,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var fraction = parse.GetValue(validFraction);
            if (fraction is <= 0 or >= 1 || parse.GetValue(trees) < 1 || parse.GetValue(leaves) < 2 || parse.GetValue(days) <= 0)
            {
                return context.Fail(ExitCodes.BadInput, "--valid-fraction must be in (0, 1), --trees >= 1, --num-leaves >= 2, --days > 0");
            }

            var request = new RankerTrainingRequest
            {
                Surface = parse.GetValue(surface)!,
                Features = parse.GetValue(featureList)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                Days = parse.GetValue(days),
                ValidFraction = fraction,
                Trees = parse.GetValue(trees),
                Leaves = parse.GetValue(leaves),
                LearningRate = parse.GetValue(learningRate),
                MinDataInLeaf = parse.GetValue(minData),
                Threads = parse.GetValue(threads),
                Seed = parse.GetValue(seed),
                UsePositions = !parse.GetValue(noPositions),
                Traffic = parse.GetValue(traffic),
                Register = parse.GetValue(register),
                Activate = parse.GetValue(activate),
            };
            try
            {
                var options = LasthopeServer.LoadOptions(CommonOptions.Setup(parse.GetValue(data)!, parse.GetValue(config)));
                await using var store = await CliStores.OpenAsync(options, cancellationToken);
                RankerTrainingReport report = null!;
                await context.Console.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                    .StartAsync(async progress =>
                    {
                        var task = progress.AddTask("Training", maxValue: request.Trees);
                        report = await new RankerTraining(store, options.Serving).TrainAsync(
                            request,
                            p =>
                            {
                                task.Value = p.Iteration;
                                task.Description = string.Create(CultureInfo.InvariantCulture, $"Training: validation NDCG@10 {p.Metric("ndcg@10") ?? double.NaN:F4}");
                            },
                            cancellationToken);
                    });
                var path = parse.GetValue(output)!;
                await File.WriteAllTextAsync(path, report.ModelText, cancellationToken);
                Print(context, report, path);
                return ExitCodes.Ok;
            }
            catch (RankerTrainingException e)
            {
                return context.Fail(e.NotFound ? ExitCodes.NotFound : ExitCodes.Failure, e.Message);
            }
            catch (Exception e) when (e is ArgumentException or ModelRejectedException)
            {
                return context.Fail(ExitCodes.BadInput, e is ArgumentException a ? CliContext.Invalid(a) : e.Message);
            }
            catch (StoreUnavailableException e)
            {
                return context.Fail(ExitCodes.Failure, e.Message);
            }
            catch (LightGbmException e)
            {
                return context.Fail(ExitCodes.Failure, $"LightGBM: {e.Message}");
            }
        });
        return command;
    }

    private static void Print(CliContext context, RankerTrainingReport report, string path)
    {
        context.Error.WriteLine($"{report.RankingsSeen:N0} rankings since {report.Since:u}; {report.RankingsWithoutFeatures:N0} without logged features; {report.QueriesUsed:N0} with at least one click (used).");
        context.Error.WriteLine(report.ExploredOnly
            ? $"trained on the {report.QueriesUsed:N0} explored rankings with clicks (random lists: the comparison below favours neither order)"
            : $"trained on all traffic ({report.ExploredQueries:N0} explored rankings with clicks): the comparison below is on lists the heuristic chose and ordered, and favours it");
        context.Out.WriteLine($"validation: {report.ValidationQueries} later queries{(report.ExploredOnly ? ", explored" : "")}; NDCG with 95% bootstrap intervals over queries");
        context.Out.WriteLine("metric    model                      heuristic                  model - heuristic");
        foreach (var c in report.Comparison)
        {
            var verdict = c.Difference.Lower > 0 ? "  (model better)" : c.Difference.Upper < 0 ? "  (heuristic better)" : "  (no difference shown)";
            context.Out.WriteLine($"{c.Metric,-9} {c.Model,-26} {c.Heuristic,-26} {c.Difference}{verdict}");
        }

        context.Error.WriteLine($"wrote {path} ({report.TreesKept} trees)");
        if (report.Registered is { } record)
        {
            context.Out.WriteLine($"registered {record.Version} for surface {record.Surface}{(report.Activated ? " (active)" : "")}");
        }
    }
}
