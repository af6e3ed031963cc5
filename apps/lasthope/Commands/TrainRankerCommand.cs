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
        var training = new RankerTrainingOptions();
        var output = new Option<string>("--out", "-o") { Description = "Where to write the model (LightGBM text).", Required = true };
        var register = new Option<bool>("--register") { Description = "Register the model in the store for the surface." };
        var activate = new Option<bool>("--activate") { Description = "Register and activate it (the server loads it at its next start)." };
        var command = new Command("train-ranker", "Train a LambdaMART re-ranker (LightGBM) from the features logged while serving; compare it with the heuristic on a later window.")
        {
            data, config, output, register, activate,
        };
        training.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!training.TryRequest(parse, out var request, out var invalid))
            {
                return context.Fail(ExitCodes.BadInput, invalid!);
            }

            request = request with { Register = parse.GetValue(register), Activate = parse.GetValue(activate) };
            try
            {
                var options = LasthopeServer.LoadOptions(CommonOptions.Setup(parse.GetValue(data)!, parse.GetValue(config)));
                await using var store = await CliStores.OpenAsync(options, cancellationToken);
                var report = await RankerTrainingOptions.WithProgressAsync(context, request.Trees * request.Bags, progress => new RankerTraining(store, options.Serving).TrainAsync(request, progress, cancellationToken));
                var path = parse.GetValue(output)!;
                await File.WriteAllTextAsync(path, report.ModelText, cancellationToken);
                Print(context, report, path);
                return ExitCodes.Ok;
            }
            catch (Exception e) when (IsTrainingFailure(e))
            {
                return Failed(context, e);
            }
        });
        return command;
    }

    /// <summary>What training can throw for bad input, missing data or a failed store or trainer.</summary>
    internal static bool IsTrainingFailure(Exception e) =>
        e is RankerTrainingException or ArgumentException or ModelRejectedException or StoreUnavailableException or LightGbmException;

    /// <summary>Prints a training failure and returns its exit code.</summary>
    internal static int Failed(CliContext context, Exception e) => e switch
    {
        RankerTrainingException t => context.Fail(t.NotFound ? ExitCodes.NotFound : ExitCodes.Failure, t.Message),
        ArgumentException a => context.Fail(ExitCodes.BadInput, CliContext.Invalid(a)),
        ModelRejectedException r => context.Fail(ExitCodes.BadInput, r.Message),
        StoreUnavailableException u => context.Fail(ExitCodes.Failure, u.Message),
        _ => context.Fail(ExitCodes.Failure, $"LightGBM: {e.Message}"),
    };

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

        if (report.OffPolicy.Estimate is { } ope)
        {
            RankerTrainingOptions.PrintOffPolicy(context, ope);
        }
        else
        {
            context.Error.WriteLine($"no off-policy estimate: {report.OffPolicy.Unavailable}");
        }

        context.Error.WriteLine($"wrote {path} ({report.TreesKept} trees)");
        if (report.Registered is { } record)
        {
            context.Out.WriteLine($"registered {record.Version} for surface {record.Surface}{(report.Activated ? " (active)" : "")}");
        }
    }
}
