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
            if (!AlsModelFile.TryLoadModel(parse.GetValue(modelFile)!, context, out var model, out var failure))
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
}
