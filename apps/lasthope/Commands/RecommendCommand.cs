using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Lasthope.Core.Storage;
using Lasthope.Factors;
using Lasthope.Server.Hosting;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary>
/// <c>lasthope recommend USER</c> and <c>recommend --users FILE</c>: ALS for known users, fold-in for new users with
/// interactions (listed with <c>--item</c>, <see cref="UserInteractions"/>, or the store's with <c>--data</c>),
/// popular items otherwise (<see cref="AlsRecommendations"/>).
/// </summary>
internal static class RecommendCommand
{
    public static Command Create(CliContext context)
    {
        var user = new Argument<string?>("user") { Description = "The user (client) id (or --users FILE for many).", Arity = ArgumentArity.ZeroOrOne };
        var users = new Option<string?>("--users") { Description = "Recommend for every user of FILE (user[,item[,weight]] lines: items fold in users the model does not know) and write user,item,rank,score,source CSV to --output." };
        var csvOutput = new Option<string>("--output", "-o") { Description = "With --users: the CSV to write ('-' for standard output).", DefaultValueFactory = _ => "-" };
        var modelFile = AlsModelFile.ModelFileOption();
        var count = AlsModelFile.CountOption();
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
            var usersPath = parse.GetValue(users);
            if (BatchConflict(parse, usersPath, user, csvOutput, items, json, data) is { } conflict)
            {
                return context.Fail(ExitCodes.BadInput, conflict);
            }

            if (parse.GetValue(count) < 1)
            {
                return context.Fail(ExitCodes.BadInput, "--count must be at least 1.");
            }

            if (!AlsModelFile.TryLoadModel(parse.GetValue(modelFile)!, context, out var model, out var failure))
            {
                return failure;
            }

            if (usersPath is not null)
            {
                return await RecommendBatchAsync(context, model, usersPath, parse.GetValue(csvOutput)!, parse.GetValue(count), parse.GetValue(exclude) ?? [], !parse.GetValue(noFilterSeen), cancellationToken);
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
            var result = AlsRecommendations.ForUser(model, AlsRecommendations.Popularity(model), userId, n, parse.GetValue(exclude) ?? [], !parse.GetValue(noFilterSeen), listed);
            if (parse.GetValue(json))
            {
                context.Out.WriteLine(UserRecommendationsDocument.From(result, model.Version).ToJson());
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

    /// <summary>Why the options do not go together (the batch takes its users and their items from the file), or null.</summary>
    private static string? BatchConflict(ParseResult parse, string? usersPath, Argument<string?> user, Option<string> output, Option<string[]> items, Option<bool> json, Option<string?> data)
    {
        if (usersPath is null)
        {
            return parse.GetValue(user) is null ? "give a USER, or --users FILE for many."
                : parse.GetResult(output) is { Implicit: false } ? "--output is for --users FILE (one USER prints to standard output)."
                : null;
        }

        return parse.GetValue(user) is not null ? "give a USER or --users FILE, not both."
            : parse.GetValue(items) is { Length: > 0 } ? "--item is for one USER; with --users, list each user's items in the file (user,item[,weight] lines)."
            : parse.GetValue(json) ? "--json is for one USER; --users writes user,item,rank,score,source CSV to --output."
            : parse.GetValue(data) is not null ? "--data is for one USER; with --users, list each new user's items in the file (user,item[,weight] lines)."
            : usersPath.Length == 0 ? "--users needs a file name."
            : null;
    }

    /// <summary>
    /// <c>recommend --users FILE</c>: every listed user's list, in process with one model load, streamed to CSV
    /// (<see cref="AlsRecommendations.WriteBatch"/>) under a progress bar. Users the model does not know are folded in
    /// from the items the file lists for them; those with none (or none the model knows) get the popular items and are
    /// reported. The store is not read: a batch is a file in, a file out.
    /// </summary>
    private static async Task<int> RecommendBatchAsync(CliContext context, AlsModel model, string usersPath, string outputPath, int count, string[] exclude, bool filterSeen, CancellationToken cancellationToken)
    {
        IReadOnlyList<RecommendationRequest> requests;
        try
        {
            using var reader = new StreamReader(usersPath);
            requests = AlsRecommendations.ReadUsers(reader);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return context.Fail(ExitCodes.NotFound, $"--users {usersPath} does not exist.");
        }
        catch (FormatException e)
        {
            return context.Fail(ExitCodes.BadInput, $"--users {usersPath}: {e.Message}");
        }

        if (requests.Count == 0)
        {
            return context.Fail(ExitCodes.BadInput, $"--users {usersPath} lists no users.");
        }

        var clock = Stopwatch.StartNew();
        BatchSummary summary = null!;
        try
        {
            await using var file = outputPath == "-" ? null : new StreamWriter(outputPath);
            var writer = file ?? context.Out;
            await context.Console.Progress().AutoClear(true).StartAsync(async progress =>
            {
                var task = progress.AddTask("recommending", maxValue: requests.Count);
                summary = await Task.Run(
                    () => AlsRecommendations.WriteBatch(model, requests, count, writer, exclude, filterSeen, progress: new InlineProgress<int>(v => task.Value = v), cancellationToken: cancellationToken),
                    cancellationToken);
            });
            await writer.FlushAsync(cancellationToken);
        }
        catch (Exception e) when (e is DirectoryNotFoundException or UnauthorizedAccessException)
        {
            return context.Fail(ExitCodes.BadInput, $"--output {outputPath} cannot be written: {e.Message}");
        }
        catch (IOException e)
        {
            return context.Fail(ExitCodes.Failure, $"cannot write {outputPath}: {e.Message}");
        }
        catch (OperationCanceledException)
        {
            return context.Fail(ExitCodes.Cancelled, "the batch was cancelled; the output holds the users written so far.");
        }

        var seconds = clock.Elapsed.TotalSeconds;
        context.Console.MarkupLineInterpolated(
            $"[grey]{summary.Users:N0} users, {summary.Rows:N0} rows in {seconds:F2} s ({summary.Users / Math.Max(seconds, 1e-9):N0} users/s): {summary.Known:N0} known to the model, {summary.FoldedIn:N0} folded in, {summary.Unknown:N0} unknown (popular items){(outputPath == "-" ? "" : $"; wrote {outputPath}")}[/]");
        if (summary.Unknown > 0)
        {
            context.Console.MarkupLineInterpolated(
                $"[yellow]unknown to the model, with no item it knows listed: {string.Join(", ", summary.UnknownIds)}{(summary.Unknown > summary.UnknownIds.Count ? $" and {summary.Unknown - summary.UnknownIds.Count:N0} more" : "")}[/]");
        }

        return ExitCodes.Ok;
    }
}
