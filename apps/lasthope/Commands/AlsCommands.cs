using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Lasthope.Core.Storage;
using Lasthope.Evaluation;
using Lasthope.Factors;
using Lasthope.Server.Hosting;
using Lasthope.Server.Models;
using Lasthope.Server.Recommend;
using Microsoft.Extensions.Logging.Abstractions;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary>
/// <c>lasthope train-als</c>, <c>lasthope recommend USER</c> and <c>lasthope similar ITEM</c>: the keyword recommender
/// from the command line. Interactions come from a CSV (<see cref="InteractionInput"/>); a store-backed source
/// (<c>--data DIR</c>) slots in there, and user interactions for fold-in in <see cref="UserInteractions"/>.
/// </summary>
internal static class AlsCommands
{
    public static Command CreateTrain(CliContext context)
    {
        var input = new InteractionInput();
        var parameters = new AlsParameterOptions();
        var output = new Option<string>("--output", "-o") { Description = "Where to write the model (.lhals).", DefaultValueFactory = _ => "model.lhals" };
        var json = new Option<bool>("--json") { Description = "Print a JSON summary of the model on standard output." };
        var surface = new Option<string>("--surface") { Description = "With --register/--activate: the surface the recommender serves.", DefaultValueFactory = _ => "recommend" };
        var register = new Option<bool>("--register") { Description = "Register the model in the store of --data." };
        var activate = new Option<bool>("--activate") { Description = "Register and activate it (a running server picks it up at its next start; or use model add --server)." };
        var budget = SearchBudgetOption();
        var command = new Command("train-als", "Train implicit-feedback ALS (conjugate gradient) on user,item[,weight] interactions and write a model file. Without --regularization and --alpha, both are chosen by a search on a validation split, printed and stored in the model.");
        input.AddTo(command);
        parameters.AddTo(command);
        command.Add(budget);
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
                if (parameters.SearchRequested(parse))
                {
                    tuning = await TuneWithProgressAsync(context, matrix, new AlsTuningOptions { Base = options, Budget = TimeSpan.FromSeconds(parse.GetValue(budget)) }, cancellationToken);
                    options = tuning.Chosen;
                }

                model = await TrainWithProgressAsync(context, matrix, options, "train", cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return context.Fail(ExitCodes.Cancelled, "training was cancelled.");
            }
            catch (InvalidOperationException e)
            {
                return context.Fail(ExitCodes.BadInput, e.Message);
            }

            var seconds = clock.Elapsed.TotalSeconds;
            var path = parse.GetValue(output)!;
            try
            {
                model.Save(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return context.Fail(ExitCodes.Failure, $"cannot write {path}: {e.Message}");
            }

            context.Console.MarkupLineInterpolated($"[green]Wrote {path}[/] ({new FileInfo(path).Length:N0} bytes), version [bold]{model.Version}[/], {seconds:F2} s, final loss {model.Training.FinalLoss:G5}");
            if (parse.GetValue(json))
            {
                context.Out.WriteLine(ModelSummaryJson(model, path, seconds, tuning));
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
                var metadata = new ModelMetadata(Parameters: ParametersJson(model, tuning), Metrics: tuning is null ? null : ValidationJson(tuning));
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

    public static Command CreateRecommend(CliContext context)
    {
        var user = new Argument<string?>("user") { Description = "The user (client) id (or --users FILE for many).", Arity = ArgumentArity.ZeroOrOne };
        var users = new Option<string?>("--users") { Description = "Recommend for every user of FILE (user[,item[,weight]] lines: items fold in users the model does not know) and write user,item,rank,score,source CSV to --output." };
        var csvOutput = new Option<string>("--output", "-o") { Description = "With --users: the CSV to write ('-' for standard output).", DefaultValueFactory = _ => "-" };
        var modelFile = ModelFileOption();
        var count = CountOption();
        var exclude = new Option<string[]>("--exclude") { Description = "An item never to recommend (repeatable).", AllowMultipleArgumentsPerToken = true };
        var noFilterSeen = new Option<bool>("--no-filter-seen") { Description = "Allow items the user already has." };
        var items = new Option<string[]>("--item")
        {
            Description = "An interaction of a user the model has not seen, as ITEM or ITEM=WEIGHT (repeatable): folded in on the spot.",
            AllowMultipleArgumentsPerToken = true,
        };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of item<TAB>score<TAB>source lines." };
        var data = new Option<string?>("--data") { Description = "Also read the user's latest interaction events from this data directory's store (fold-in of a user the model has not seen)." };
        var command = new Command("recommend", "Recommend items for a user: ALS for known users, fold-in for new users with interactions, popular items otherwise.")
        {
            user, modelFile, count, exclude, noFilterSeen, items, json, data, users, csvOutput,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!TryLoadModel(parse.GetValue(modelFile)!, context, out var model, out var failure))
            {
                return failure;
            }

            if (parse.GetValue(users) is { } usersPath)
            {
                return await RecommendBatchAsync(context, model, usersPath, parse.GetValue(csvOutput)!, parse.GetValue(count), !parse.GetValue(noFilterSeen), cancellationToken);
            }

            if (parse.GetValue(user) is null)
            {
                return context.Fail(ExitCodes.BadInput, "give a USER, or --users FILE for many.");
            }

            if (!UserInteractions.TryParse(parse.GetValue(items) ?? [], out var parsed, out var error))
            {
                return context.Fail(ExitCodes.BadInput, error);
            }

            var listed = parsed;
            if (parse.GetValue(data) is { } directory)
            {
                try
                {
                    var options = LasthopeServer.LoadOptions(CommonOptions.Setup(directory, null));
                    await using var store = await CliStores.OpenAsync(options, cancellationToken);
                    var stored = await store.ReadUserEventsAsync(parse.GetValue(user)!, options.Recommend.MaxUserEvents, cancellationToken);
                    listed = [.. parsed, .. stored.Select(e => new KeyValuePair<string, float>(e.ItemId, (float)e.Weight))];
                }
                catch (StoreUnavailableException e)
                {
                    return context.Fail(ExitCodes.Failure, e.Message);
                }
            }

            var userId = parse.GetValue(user)!;
            var n = parse.GetValue(count);
            if (n < 1)
            {
                return context.Fail(ExitCodes.BadInput, "--count must be at least 1.");
            }

            var result = AlsRecommendations.ForUser(model, AlsRecommendations.Popularity(model), userId, n, parse.GetValue(exclude) ?? [], !parse.GetValue(noFilterSeen), listed);
            if (parse.GetValue(json))
            {
                context.Out.WriteLine(RecommendationJson(result, model.Version));
            }
            else
            {
                foreach (var r in result.Items)
                {
                    context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.ItemId}\t{r.Score:G6}\t{result.SourceName}"));
                }
            }

            if (result.FoldedIn || result.Source == RecommendationSource.Popular)
            {
                context.Console.MarkupLineInterpolated($"[grey]{userId} is not in the model: {(result.FoldedIn ? $"folded in from {listed.Count} listed interactions ({result.UnknownItems} on unknown items)" : "popular items (nothing known about the user)")}[/]");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command CreateSimilar(CliContext context)
    {
        var item = new Argument<string>("item") { Description = "The item (keyword) id." };
        var modelFile = ModelFileOption();
        var count = CountOption();
        var json = new Option<bool>("--json") { Description = "Print JSON instead of item<TAB>score lines." };
        var command = new Command("similar", "The items most similar to an item, by cosine of their ALS factors.") { item, modelFile, count, json };
        command.SetAction((parse, cancellationToken) =>
        {
            if (!TryLoadModel(parse.GetValue(modelFile)!, context, out var model, out var failure))
            {
                return Task.FromResult(failure);
            }

            var itemId = parse.GetValue(item)!;
            if (!model.Items.TryGetIndex(itemId, out _))
            {
                return Task.FromResult(context.Fail(ExitCodes.NotFound, $"item '{itemId}' is not in the model."));
            }

            var n = parse.GetValue(count);
            if (n < 1)
            {
                return Task.FromResult(context.Fail(ExitCodes.BadInput, "--count must be at least 1."));
            }

            var similar = model.Similar(itemId, n);
            if (parse.GetValue(json))
            {
                context.Out.WriteLine(Json(w =>
                {
                    w.WriteString("item", itemId);
                    w.WriteString("modelVersion", model.Version);
                    WriteItems(w, similar, "als");
                }));
            }
            else
            {
                foreach (var r in similar)
                {
                    context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.ItemId}\t{r.Score:G6}"));
                }
            }

            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    /// <summary><c>recommend --users FILE</c>: every listed user's list, in process, as CSV.</summary>
    private static async Task<int> RecommendBatchAsync(CliContext context, AlsModel model, string usersPath, string outputPath, int count, bool filterSeen, CancellationToken cancellationToken)
    {
        if (count < 1)
        {
            return context.Fail(ExitCodes.BadInput, "--count must be at least 1.");
        }

        IReadOnlyList<RecommendationRequest> requests;
        try
        {
            using var reader = new StreamReader(usersPath);
            requests = AlsRecommendations.ReadUsers(reader);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return context.Fail(ExitCodes.NotFound, $"{usersPath} does not exist.");
        }
        catch (FormatException e)
        {
            return context.Fail(ExitCodes.BadInput, $"{usersPath}: {e.Message}");
        }

        var clock = Stopwatch.StartNew();
        var results = await Task.Run(() => AlsRecommendations.Batch(model, requests, count, filterSeen, cancellationToken: cancellationToken), cancellationToken);
        try
        {
            if (outputPath == "-")
            {
                AlsRecommendations.WriteCsv(context.Out, results);
            }
            else
            {
                await using var writer = new StreamWriter(outputPath);
                AlsRecommendations.WriteCsv(writer, results);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return context.Fail(ExitCodes.Failure, $"cannot write {outputPath}: {e.Message}");
        }

        var known = results.Count(r => r.Source == RecommendationSource.Als && !r.FoldedIn);
        var folded = results.Count(r => r.FoldedIn);
        context.Console.MarkupLineInterpolated($"[grey]{results.Count:N0} users in {clock.Elapsed.TotalSeconds:F2} s: {known:N0} known to the model, {folded:N0} folded in, {results.Count - known - folded:N0} popular items{(outputPath == "-" ? "" : $"; wrote {outputPath}")}[/]");
        return ExitCodes.Ok;
    }

    /// <summary>
    /// Chooses the regularization and alpha on a validation split with a progress bar, then prints the chosen values
    /// and the best trials (<see cref="AlsTuning.Tune"/>).
    /// </summary>
    internal static async Task<AlsTuningResult> TuneWithProgressAsync(CliContext context, InteractionMatrix matrix, AlsTuningOptions tuning, CancellationToken cancellationToken)
    {
        context.Console.MarkupLineInterpolated(
            $"[bold]choosing[/] {(tuning.FixedRegularization is null ? "regularization" : "")}{(tuning.FixedRegularization is null && tuning.FixedAlpha is null ? " and " : "")}{(tuning.FixedAlpha is null ? "alpha" : "")}: successive halving and a compass search on log scales (regularization {tuning.MinRegularization:G4}-{tuning.MaxRegularization:G4}, alpha {tuning.MinAlpha:G4}-{tuning.MaxAlpha:G4}), maximising {tuning.Objective}, budget {tuning.Budget.TotalSeconds:F0} s");
        AlsTuningResult result = null!;
        await context.Console.Progress().AutoClear(true).StartAsync(async progress =>
        {
            var task = progress.AddTask("search", maxValue: 1);
            task.IsIndeterminate = true;
            result = await Task.Run(
                () => AlsTuning.Tune(matrix, tuning, new InlineProgress<SearchTrial>(t => task.Description = string.Create(CultureInfo.InvariantCulture, $"search: trial {t.Index + 1}, {t.Parameters["iterations"]} iterations, {tuning.Metric}@{tuning.K} {t.Score:F4}")), cancellationToken),
                cancellationToken);
            task.Value = 1;
        });

        var table = new Table().Border(TableBorder.Simple).AddColumns("trial", "regularization", "alpha", "iterations", $"{tuning.Metric}@{tuning.K}", "seconds");
        foreach (var t in result.Trials.Where(t => (int)t.Parameters["iterations"] == tuning.Base.Iterations).OrderByDescending(t => t.Score).Take(10))
        {
            table.AddRow(
                (t.Index + 1).ToString(CultureInfo.InvariantCulture),
                t.Parameters["regularization"].ToString("G4", CultureInfo.InvariantCulture),
                t.Parameters["alpha"].ToString("G4", CultureInfo.InvariantCulture),
                t.Parameters["iterations"].ToString(CultureInfo.InvariantCulture),
                t.Score.ToString("F4", CultureInfo.InvariantCulture),
                t.Elapsed.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture));
        }

        context.Console.Write(table);
        context.Console.MarkupLineInterpolated(
            $"[green]chosen[/]: regularization {result.Chosen.Regularization:G4}, alpha {result.Chosen.Alpha:G4} (factors {result.Chosen.Factors}, iterations {result.Chosen.Iterations}); {result.Objective}: {result.Score:F4} over {result.ValidationUsers:N0} users; {result.Trials.Count} trials in {result.Elapsed.TotalSeconds:F1} s{(result.BudgetExhausted ? " [yellow](stopped at the time budget: the choice depends on this machine's speed)[/]" : "")}");
        return result;
    }

    internal static Option<double> SearchBudgetOption() => new("--search-budget") { Description = "Seconds the hyperparameter search may take (it stops with the best point so far).", DefaultValueFactory = _ => 180 };

    /// <summary>Trains with a Spectre progress bar (one step per iteration, with the loss), then prints the iterations.</summary>
    internal static async Task<AlsModel> TrainWithProgressAsync(CliContext context, InteractionMatrix matrix, AlsOptions options, string label, CancellationToken cancellationToken)
    {
        var reports = new List<AlsIterationReport>();
        AlsModel? model = null;
        await context.Console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask($"{label}: ALS {options.Factors} factors", maxValue: Math.Max(1, options.Iterations));
                var sink = new InlineProgress<AlsIterationReport>(r =>
                {
                    reports.Add(r);
                    task.Description = string.Create(CultureInfo.InvariantCulture, $"{label}: iteration {r.Iteration}/{r.Iterations}, loss {r.Loss:G5}");
                    task.Increment(1);
                });
                model = await Task.Run(() => AlsTrainer.Train(matrix, options, sink, cancellationToken), cancellationToken);
                task.Value = task.MaxValue;
            });

        if (reports.Count > 0)
        {
            var table = new Table().Border(TableBorder.Simple).AddColumns("iteration", "loss", "seconds");
            foreach (var r in reports)
            {
                table.AddRow(r.Iteration.ToString(CultureInfo.InvariantCulture), r.Loss.ToString("G6", CultureInfo.InvariantCulture), r.Elapsed.TotalSeconds.ToString("F3", CultureInfo.InvariantCulture));
            }

            context.Console.Write(table);
        }

        return model!;
    }

    internal static bool TryLoadModel(string path, CliContext context, out AlsModel model, out int failure)
    {
        model = null!;
        failure = ExitCodes.Ok;
        try
        {
            model = AlsModel.Load(path);
            return true;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            failure = context.Fail(ExitCodes.NotFound, $"model file {path} does not exist.");
        }
        catch (InvalidDataException e)
        {
            failure = context.Fail(ExitCodes.BadInput, $"{path}: {e.Message}");
        }
        catch (IOException e)
        {
            failure = context.Fail(ExitCodes.Failure, $"cannot read {path}: {e.Message}");
        }

        return false;
    }

    internal static string Json(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false }))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static string RecommendationJson(UserRecommendations result, string modelVersion) => Json(w =>
    {
        w.WriteString("user", result.User);
        w.WriteString("modelVersion", modelVersion);
        w.WriteBoolean("foldedIn", result.FoldedIn);
        WriteItems(w, result.Items, result.SourceName);
    });

    /// <summary>Items in the HTTP API's shape: <c>{"id", "rank", "score", "source"}</c>, rank from 1.</summary>
    private static void WriteItems(Utf8JsonWriter w, IReadOnlyList<Recommendation> items, string source)
    {
        w.WriteStartArray("items");
        for (var k = 0; k < items.Count; k++)
        {
            w.WriteStartObject();
            w.WriteString("id", items[k].ItemId);
            w.WriteNumber("rank", k + 1);
            w.WriteNumber("score", items[k].Score);
            w.WriteString("source", source);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static string ParametersJson(AlsModel model, AlsTuningResult? tuning) => Json(w =>
    {
        var o = model.Training.Options;
        w.WriteNumber("factors", o.Factors);
        w.WriteNumber("regularization", o.Regularization);
        w.WriteNumber("alpha", o.Alpha);
        w.WriteNumber("iterations", model.Training.IterationsTrained);
        w.WriteNumber("cgSteps", o.CgSteps);
        w.WriteNumber("seed", o.Seed);
        w.WriteString("chosenBy", tuning is null ? "given" : "search");
    });

    private static string ValidationJson(AlsTuningResult tuning) => Json(w => WriteValidation(w, tuning));

    private static void WriteValidation(Utf8JsonWriter w, AlsTuningResult tuning)
    {
        w.WriteString("objective", tuning.Objective);
        w.WriteNumber("score", tuning.Score);
        w.WriteNumber("validationUsers", tuning.ValidationUsers);
        w.WriteNumber("trials", tuning.Trials.Count);
        w.WriteNumber("seconds", Math.Round(tuning.Elapsed.TotalSeconds, 2));
        w.WriteBoolean("budgetExhausted", tuning.BudgetExhausted);
    }

    private static string ModelSummaryJson(AlsModel model, string path, double seconds, AlsTuningResult? tuning) => Json(w =>
    {
        var o = model.Training.Options;
        w.WriteString("model", path);
        w.WriteString("version", model.Version);
        w.WriteNumber("users", model.Users.Count);
        w.WriteNumber("items", model.Items.Count);
        w.WriteNumber("factors", model.Factors);
        w.WriteNumber("regularization", o.Regularization);
        w.WriteNumber("alpha", o.Alpha);
        w.WriteNumber("iterations", model.Training.IterationsTrained);
        w.WriteNumber("cgSteps", o.CgSteps);
        w.WriteNumber("seed", o.Seed);
        if (double.IsFinite(model.Training.FinalLoss))
        {
            w.WriteNumber("finalLoss", model.Training.FinalLoss);
        }

        w.WriteString("chosenBy", tuning is null ? "given" : "search");
        if (tuning is not null)
        {
            w.WriteStartObject("search");
            WriteValidation(w, tuning);
            w.WriteEndObject();
        }

        w.WriteNumber("seconds", Math.Round(seconds, 3));
    });

    private static Option<string> ModelFileOption() => new("--model", "-m") { Description = "The model file (.lhals) written by train-als.", DefaultValueFactory = _ => "model.lhals" };

    private static Option<int> CountOption() => new("--count", "-n") { Description = "How many items.", DefaultValueFactory = _ => 10 };
}

/// <summary>
/// Where interactions come from: a CSV (<c>--input FILE</c>, <c>--header</c>), or the event store (<c>--data DIR</c>):
/// the interaction events of the last <c>--days</c>, each weighted by its configured type weight (click 1, conversion 3,
/// ...), repeated (user, item) pairs summed.
/// </summary>
internal sealed class InteractionInput
{
    public Option<string?> Input { get; } = new("--input", "-i") { Description = "A CSV of user,item[,weight[,timestamp]] lines (header optional)." };

    public Option<CsvHeader> Header { get; } = new("--header") { Description = "Whether the CSV's first line is a header.", DefaultValueFactory = _ => CsvHeader.Auto };

    public Option<string?> Data { get; } = new("--data") { Description = "Train from the interaction events in this data directory's store instead of a CSV." };

    public Option<double> Days { get; } = new("--days") { Description = "With --data: the days of events to train on.", DefaultValueFactory = _ => 90 };

    public void AddTo(Command command)
    {
        command.Add(Input);
        command.Add(Header);
        command.Add(Data);
        command.Add(Days);
    }

    public async Task<(InteractionLog? Log, int Failure)> LoadAsync(ParseResult parse, CliContext context, CancellationToken cancellationToken)
    {
        var path = parse.GetValue(Input);
        var data = parse.GetValue(Data);
        if (string.IsNullOrEmpty(path) == string.IsNullOrEmpty(data))
        {
            return (null, context.Fail(ExitCodes.BadInput, "give the interactions with either --input FILE or --data DIR."));
        }

        if (path is not null)
        {
            return TryRead(path, parse.GetValue(Header), null, context, out var log, out var failure) ? (log, ExitCodes.Ok) : (null, failure);
        }

        try
        {
            var options = LasthopeServer.LoadOptions(CommonOptions.Setup(data!, null));
            await using var store = await CliStores.OpenAsync(options, cancellationToken);
            var builder = new InteractionLogBuilder();
            var since = DateTimeOffset.UtcNow - TimeSpan.FromDays(parse.GetValue(Days));
            await foreach (var e in store.ReadEventsAsync(since, cancellationToken))
            {
                if (e.UserId is not null && e.Weight > 0)
                {
                    builder.Add(e.UserId, e.ItemId, (float)e.Weight, e.Time.ToUnixTimeMilliseconds());
                }
            }

            var built = builder.Build();
            return built.Count == 0
                ? (null, context.Fail(ExitCodes.BadInput, $"the store in {data} holds no interaction events with a user id in the last {parse.GetValue(Days)} days."))
                : (built, ExitCodes.Ok);
        }
        catch (StoreUnavailableException e)
        {
            return (null, context.Fail(ExitCodes.Failure, e.Message));
        }
    }

    /// <summary>Reads a CSV; with <paramref name="knownItems"/> (and <paramref name="knownUsers"/>), those keep their indices and new ones follow.</summary>
    public static bool TryRead(string path, CsvHeader header, IdMap? knownItems, CliContext context, out InteractionLog log, out int failure, IdMap? knownUsers = null)
    {
        log = null!;
        failure = ExitCodes.Ok;
        try
        {
            var builder = new InteractionLogBuilder(knownUsers, knownItems);
            using (var reader = new StreamReader(path))
            {
                InteractionCsv.Read(reader, builder, header);
            }

            log = builder.Build();
            if (log.Count == 0)
            {
                failure = context.Fail(ExitCodes.BadInput, $"{path} holds no interactions.");
                return false;
            }

            return true;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            failure = context.Fail(ExitCodes.NotFound, $"{path} does not exist.");
        }
        catch (FormatException e)
        {
            failure = context.Fail(ExitCodes.BadInput, $"{path}: {e.Message}");
        }
        catch (IOException e)
        {
            failure = context.Fail(ExitCodes.Failure, $"cannot read {path}: {e.Message}");
        }

        return false;
    }
}

/// <summary>
/// A user's interactions for fold-in: today those listed with <c>--item ITEM[=WEIGHT]</c>; a store-backed lookup of the
/// user's events belongs beside <see cref="TryParse"/>.
/// </summary>
internal static class UserInteractions
{
    public static bool TryParse(IEnumerable<string> values, out IReadOnlyList<KeyValuePair<string, float>> interactions, out string error)
    {
        var list = new List<KeyValuePair<string, float>>();
        interactions = list;
        error = "";
        foreach (var value in values)
        {
            var eq = value.LastIndexOf('=');
            if (eq < 0)
            {
                list.Add(new(value, 1f));
                continue;
            }

            if (!float.TryParse(value.AsSpan(eq + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var weight) || !float.IsFinite(weight) || eq == 0)
            {
                error = $"--item '{value}' is not ITEM or ITEM=WEIGHT with a finite weight.";
                return false;
            }

            list.Add(new(value[..eq], weight));
        }

        return true;
    }
}

/// <summary>The ALS hyperparameters as options, shared by train-als and evaluate-recs.</summary>
internal sealed class AlsParameterOptions
{
    private static readonly AlsOptions Defaults = new();

    public Option<int> Factors { get; } = new("--factors") { Description = "Factors (dimension of the vectors).", DefaultValueFactory = _ => Defaults.Factors };

    public Option<float> Regularization { get; } = new("--regularization") { Description = "L2 regularization lambda (train-als: chosen with alpha by a search on a validation split when neither is given).", DefaultValueFactory = _ => Defaults.Regularization };

    public Option<float> Alpha { get; } = new("--alpha") { Description = "Confidence slope: c = 1 + alpha * weight (train-als: see --regularization).", DefaultValueFactory = _ => Defaults.Alpha };

    public Option<int> Iterations { get; } = new("--iterations") { Description = "ALS iterations.", DefaultValueFactory = _ => Defaults.Iterations };

    public Option<int> CgSteps { get; } = new("--cg-steps") { Description = "Conjugate-gradient steps per row and half-step.", DefaultValueFactory = _ => Defaults.CgSteps };

    public Option<AlsSolver> Solver { get; } = new("--solver") { Description = "Row solver: ConjugateGradient or Cholesky (exact).", DefaultValueFactory = _ => Defaults.Solver };

    public Option<ConfidenceScaling> Confidence { get; } = new("--confidence") { Description = "Linear (1 + alpha r) or Logarithmic (1 + alpha log(1 + r / epsilon)).", DefaultValueFactory = _ => Defaults.Confidence };

    public Option<float> Epsilon { get; } = new("--epsilon") { Description = "Epsilon of the logarithmic confidence.", DefaultValueFactory = _ => Defaults.Epsilon };

    public Option<int> Threads { get; } = new("--threads") { Description = "Worker threads (default: the processor count).", DefaultValueFactory = _ => Environment.ProcessorCount };

    public Option<int> Seed { get; } = new("--seed") { Description = "Seed of the initial factors (and of splits, where there are any).", DefaultValueFactory = _ => Defaults.Seed };

    /// <summary>
    /// Whether train-als leaves the regularization and alpha to the search: when neither was given (with one of them
    /// given, the other keeps the library default, as before the search existed).
    /// </summary>
    public bool SearchRequested(ParseResult parse) =>
        parse.GetResult(Regularization) is not { Implicit: false } && parse.GetResult(Alpha) is not { Implicit: false };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Factors, Regularization, Alpha, Iterations, CgSteps, Solver, Confidence, Epsilon, Threads, Seed })
        {
            command.Add(option);
        }
    }

    public bool TryRead(ParseResult parse, CliContext context, out AlsOptions options, out int failure)
    {
        options = new AlsOptions
        {
            Factors = parse.GetValue(Factors),
            Regularization = parse.GetValue(Regularization),
            Alpha = parse.GetValue(Alpha),
            Iterations = parse.GetValue(Iterations),
            CgSteps = parse.GetValue(CgSteps),
            Solver = parse.GetValue(Solver),
            Confidence = parse.GetValue(Confidence),
            Epsilon = parse.GetValue(Epsilon),
            Threads = parse.GetValue(Threads),
            Seed = parse.GetValue(Seed),
        };
        failure = ExitCodes.Ok;
        try
        {
            options.Validate();
            return true;
        }
        catch (ArgumentOutOfRangeException e)
        {
            failure = context.Fail(ExitCodes.BadInput, $"invalid ALS option: {e.Message}");
            return false;
        }
    }
}

/// <summary>Reports synchronously on the caller's thread (Progress&lt;T&gt; would post to the thread pool).</summary>
internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
