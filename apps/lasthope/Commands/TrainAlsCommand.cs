using System.CommandLine;
using System.Diagnostics;
using Lasthope.Core.Storage;
using Lasthope.Factors;
using Lasthope.Server.Hosting;
using Lasthope.Server.Models;
using Lasthope.Server.Recommend;
using Microsoft.Extensions.Logging.Abstractions;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary>
/// <c>lasthope train-als</c>: trains the keyword recommender on interactions from a CSV or the event store
/// (<see cref="InteractionInput"/>), choosing regularization and alpha by a search unless given, and writes the model
/// file (optionally registering it in the store).
/// </summary>
internal static class TrainAlsCommand
{
    public static Command Create(CliContext context)
    {
        var input = new InteractionInput();
        var parameters = new AlsParameterOptions();
        var output = new Option<string>("--output", "-o") { Description = "Where to write the model (.lhals).", DefaultValueFactory = _ => "model.lhals" };
        var json = new Option<bool>("--json") { Description = "Print a JSON summary of the model on standard output." };
        var surface = new Option<string>("--surface") { Description = "With --register/--activate: the surface the recommender serves.", DefaultValueFactory = _ => "recommend" };
        var register = new Option<bool>("--register") { Description = "Register the model in the store of --data." };
        var activate = new Option<bool>("--activate") { Description = "Register and activate it (a running server picks it up at its next start; or use model add --server)." };
        var budget = AlsProgress.SearchBudgetOption();
        var grid = AlsProgress.GridOption();
        var command = new Command("train-als", "Train implicit-feedback ALS (conjugate gradient) on user,item[,weight] interactions and write a model file. Without --regularization and --alpha, both (and the factors, without --factors) are chosen by a search on a validation split, printed and stored in the model.");
        input.AddTo(command);
        parameters.AddTo(command);
        command.Add(budget);
        command.Add(grid);
        command.Add(output);
        command.Add(json);
        command.Add(surface);
        command.Add(register);
        command.Add(activate);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!parameters.TryRead(parse, context, out var options, out var failure))
            {
                return failure;
            }

            if (!AlsProgress.TryReadSearch(parse, context, budget, grid, out var searchBudget, out var gridShape, out failure))
            {
                return failure;
            }

            var (log, loadFailure) = await input.LoadAsync(parse, context, cancellationToken);
            if (log is null)
            {
                return loadFailure;
            }

            var matrix = log.ToMatrix();
            context.Console.MarkupLineInterpolated($"[grey]{matrix.Users.Count:N0} users, {matrix.Items.Count:N0} items, {matrix.NonZeros:N0} interactions ({log.Count:N0} events)[/]");
            var clock = Stopwatch.StartNew();
            AlsModel model;
            AlsTuningResult? tuning = null;
            try
            {
                if (parameters.SearchRequested(parse) || gridShape is not null)
                {
                    var search = new AlsTuningOptions
                    {
                        Base = options,
                        Budget = searchBudget,
                        FactorCandidates = parameters.FactorCandidates(parse),
                        FixedRegularization = parameters.GivenRegularization(parse),
                        FixedAlpha = parameters.GivenAlpha(parse),
                    };
                    tuning = await AlsProgress.TuneWithProgressAsync(context, matrix, search, cancellationToken, gridShape);
                    options = tuning.Chosen;
                }

                model = await AlsProgress.TrainWithProgressAsync(context, matrix, options, "train", cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return context.Fail(ExitCodes.Cancelled, "training was cancelled.");
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentOutOfRangeException)
            {
                return context.Fail(ExitCodes.BadInput, e.Message);
            }

            var elapsed = clock.Elapsed;
            var path = parse.GetValue(output)!;
            try
            {
                model.Save(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return context.Fail(ExitCodes.Failure, $"cannot write {path}: {e.Message}");
            }

            context.Console.MarkupLineInterpolated($"[green]Wrote {path}[/] ({new FileInfo(path).Length:N0} bytes), version [bold]{model.Version}[/], {elapsed.TotalSeconds:F2} s, final loss {model.Training.FinalLoss:G5}");
            if (parse.GetValue(json))
            {
                context.Out.WriteLine(AlsModelDocument.From(model, path, elapsed, tuning).ToJson());
            }

            if (parse.GetValue(register) || parse.GetValue(activate))
            {
                if (parse.GetValue(input.Data) is not { } data)
                {
                    return context.Fail(ExitCodes.BadInput, "--register and --activate need --data DIR (the store to register in).");
                }

                var settings = LasthopeServer.LoadOptions(CommonOptions.Setup(data, null));
                await using var store = await CliStores.OpenAsync(settings, cancellationToken);
                var registry = new RecommenderRegistry((IModelStore)store, TimeProvider.System, NullLogger.Instance);
                var metadata = new ModelMetadata(Parameters: AlsParametersDocument.From(model, tuning).ToJson(), Metrics: tuning is null ? null : AlsValidationDocument.From(tuning).ToJson());
                var record = await registry.RegisterAsync(await File.ReadAllBytesAsync(path, cancellationToken), parse.GetValue(surface)!, metadata, cancellationToken);
                if (parse.GetValue(activate))
                {
                    await registry.ActivateAsync(record.Surface, record.Version, cancellationToken);
                }

                context.Console.MarkupLineInterpolated($"registered [bold]{record.Version}[/] for surface {record.Surface}{(parse.GetValue(activate) ? " (active)" : "")}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
