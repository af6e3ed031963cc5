using System.CommandLine;
using System.Diagnostics;
using Lasthope.Cli.Charts;
using Lasthope.Evaluation;
using Lasthope.Factors;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary>
/// <c>lasthope evaluate-recs</c>: an honest offline evaluation of ALS against the popularity baseline, with bootstrap
/// intervals over users, an optional hyperparameter search on a validation split carved out of the training part, and
/// JSON and chart output. The command parses and prints: the protocols are <see cref="RecsExperiment"/>'s, the
/// comparison <see cref="RecsEvaluation"/>'s, the JSON <see cref="RecsReportDocument"/>'s and the chart
/// <see cref="RecsChart"/>'s.
/// </summary>
/// <remarks>
/// Protocols:
/// <list type="bullet">
/// <item><c>holdout</c> (default with <c>--input</c>): per-user random holdout of <c>--holdout-fraction</c> of each user's items;
/// the model is trained on the rest and recommends for the same users.</item>
/// <item><c>last-k</c>: each user's <c>--last-k</c> most recent items (needs timestamps).</item>
/// <item><c>known-users</c> (with <c>--train</c> and <c>--test</c>): a given split of known users. The model trains on
/// the first file; each user of the second it knows is evaluated on their items the training part did not have, with
/// those training items excluded (<see cref="KnownUserProtocol"/>).</item>
/// <item><c>fold-in</c> (default with <c>--train</c> and <c>--test-users</c>): users unseen in training. With two files, the
/// second holds the new users (ids are namespaced: a test user is never a training user, even with the same id); with one
/// file, <c>--test-user-fraction</c> of its users are held out whole. Each new user's <c>--fold-in-fraction</c> of items
/// is folded in (the exact solve production uses) and the rest is predicted.</item>
/// </list>
/// </remarks>
internal static class EvaluateRecsCommand
{
    public static Command Create(CliContext context)
    {
        var o = new EvaluateRecsOptions();
        var command = new Command("evaluate-recs", "Evaluate ALS against popularity: P@k, R@k, NDCG@k, MAP@k and coverage with 95% intervals over users and the paired difference.");
        o.AddTo(command);
        command.SetAction((parse, cancellationToken) => RunAsync(parse, o, context, cancellationToken));
        return command;
    }


    private static async Task<int> RunAsync(ParseResult parse, EvaluateRecsOptions o, CliContext context, CancellationToken cancellationToken)
    {
        if (!o.Als.TryRead(parse, context, out var alsOptions, out var failure))
        {
            return failure;
        }

        if (!o.TryReadKs(parse, out var ks))
        {
            return context.Fail(ExitCodes.BadInput, "--k must list cut-offs of at least 1, separated by commas (e.g. 1,5,10,20).");
        }

        var clock = Stopwatch.StartNew();
        RecsExperiment? experiment;
        try
        {
            var prepared = Prepare(parse, o, context, alsOptions.Seed, out experiment);
            if (experiment is null)
            {
                return prepared;
            }
        }
        catch (ArgumentException e)
        {
            return context.Fail(ExitCodes.BadInput, CliContext.MessageOf(e));
        }

        context.Console.MarkupLineInterpolated(
            $"[bold]{experiment.Description}[/]: training {experiment.Train.Users.Count:N0} users x {experiment.Train.Items.Count:N0} items, {experiment.Train.NonZeros:N0} interactions; {experiment.Users.Count:N0} evaluation users");

        try
        {
            AlsTuningResult? search = null;
            if (parse.GetValue(o.Search))
            {
                search = await SearchAsync(parse, o, context, experiment, alsOptions, cancellationToken);
                if (search is null)
                {
                    return ExitCodes.BadInput;
                }

                alsOptions = search.Chosen;
            }

            var model = await AlsProgress.TrainWithProgressAsync(context, experiment.Train, alsOptions, "final", cancellationToken);
            var popularity = PopularityModel.Build(experiment.Train);
            var als = experiment.Recommender(model);
            var options = new RecsEvaluationOptions
            {
                Ks = ks,
                CatalogueSize = experiment.Train.Items.Count,
                Precision = parse.GetValue(o.Precision),
                Resamples = parse.GetValue(o.Resamples),
                Level = parse.GetValue(o.Level),
                Seed = alsOptions.Seed,
                Threads = alsOptions.Threads,
            };
            try
            {
                options.Validate();
            }
            catch (ArgumentOutOfRangeException e)
            {
                return context.Fail(ExitCodes.BadInput, e.Message);
            }

            RecsEvaluationReport report = null!;
            await context.Console.Progress().AutoClear(true).StartAsync(async progress =>
            {
                var task = progress.AddTask("evaluating", maxValue: 1);
                report = await Task.Run(() => RecsEvaluation.Compare(experiment.Users, als, new PopularityRecommender(popularity), options, new InlineProgress<double>(v => task.Value = v), cancellationToken), cancellationToken);
                task.Value = 1;
            });

            EvaluateRecsOutput.PrintTable(context, report);
            EvaluateRecsOutput.WriteTsv(context.Out, report);
            var elapsed = clock.Elapsed;
            if (parse.GetValue(o.Json) is { } jsonPath)
            {
                var json = RecsReportDocument.Create(experiment, model, report, search, elapsed).ToJson();
                if (jsonPath == "-")
                {
                    context.Out.WriteLine(json);
                }
                else
                {
                    await File.WriteAllTextAsync(jsonPath, json + "\n", cancellationToken);
                    context.Console.MarkupLineInterpolated($"[grey]wrote {jsonPath}[/]");
                }
            }

            if (parse.GetValue(o.Chart) is { } chartPath)
            {
                if (!RecsChart.TryDraw(report, experiment.Description, chartPath, out var error))
                {
                    return context.Fail(ExitCodes.BadInput, error);
                }

                context.Console.MarkupLineInterpolated($"[grey]wrote {chartPath}[/]");
            }

            return ExitCodes.Ok;
        }
        catch (OperationCanceledException)
        {
            return context.Fail(ExitCodes.Cancelled, "evaluation was cancelled.");
        }
        catch (InvalidOperationException e)
        {
            return context.Fail(ExitCodes.Failure, e.Message);
        }
    }

    /// <summary>
    /// Reads the files the options name and builds their protocol; null with the exit code when an option or a file is
    /// wrong. The split itself is the library's and throws <see cref="ArgumentException"/> for settings out of range.
    /// </summary>
    private static int Prepare(ParseResult parse, EvaluateRecsOptions o, CliContext context, int seed, out RecsExperiment? experiment)
    {
        experiment = null;
        var input = parse.GetValue(o.Input);
        var trainPath = parse.GetValue(o.Train);
        var testUsersPath = parse.GetValue(o.TestUsers);
        var header = parse.GetValue(o.Header);
        var testPath = parse.GetValue(o.Test);
        var split = new RecsSplitOptions
        {
            HoldoutFraction = parse.GetValue(o.HoldoutFraction),
            LastK = parse.GetValue(o.LastK),
            FoldInFraction = parse.GetValue(o.FoldInFraction),
            TestUserFraction = parse.GetValue(o.TestUserFraction),
            MinTrainItems = parse.GetValue(o.MinTrainItems),
            Seed = seed,
        };
        if ((input is null) == (trainPath is null))
        {
            return context.Fail(ExitCodes.BadInput, "give either --input FILE, or --train FILE with --test FILE (known users) or --test-users FILE (new users).");
        }

        if (trainPath is not null && (testUsersPath is null) == (testPath is null))
        {
            return context.Fail(ExitCodes.BadInput, "--train needs one of --test FILE (held-out interactions of its users) or --test-users FILE (new users to fold in); for one file use --input.");
        }

        if (testPath is not null)
        {
            if (parse.GetValue(o.Protocol) is { } asked && asked != RecsProtocol.KnownUsers)
            {
                return context.Fail(ExitCodes.BadInput, "--test is the KnownUsers protocol.");
            }

            if (!InteractionInput.TryRead(trainPath!, header, null, context, out var trainLog, out var failure, option: "--train"))
            {
                return failure;
            }

            // Test ids map onto the training log's: a shared id is the same user (or item).
            if (!InteractionInput.TryRead(testPath, header, trainLog.Items, context, out var testLog, out failure, trainLog.Users, "--test"))
            {
                return failure;
            }

            var known = RecsExperiment.KnownUsers(trainLog, testLog, trainPath!, testPath);
            var s = known.Settings;
            var leftOut = $"{s.UnknownTestUsers:N0} users absent from training (skipped: a new user is the fold-in protocol, --test-users), {s.UsersWithNothingNew:N0} whose test items were all seen in training, {s.SeenTestPairs:N0} (user, item) pairs seen in training";
            if (known.Users.Count == 0)
            {
                return context.Fail(ExitCodes.BadInput, $"--test {testPath}: no user of it has a training interaction in --train and a test item they did not have there; left out: {leftOut}.");
            }

            experiment = known;
            context.Console.MarkupLineInterpolated(
                $"[grey]{Path.GetFileName(testPath)}: {experiment.Users.Count:N0} known users evaluated; left out: {leftOut}[/]");
            return ExitCodes.Ok;
        }

        var protocol = parse.GetValue(o.Protocol) ?? (testUsersPath is not null ? RecsProtocol.FoldIn : RecsProtocol.Holdout);
        if (testUsersPath is not null)
        {
            if (protocol != RecsProtocol.FoldIn)
            {
                return context.Fail(ExitCodes.BadInput, "--test-users is the fold-in protocol.");
            }

            if (!InteractionInput.TryRead(trainPath!, header, null, context, out var trainLog, out var failure, option: "--train"))
            {
                return failure;
            }

            // The new users live in a log of their own (so an id shared with a training user is a different person);
            // their items map onto the training catalogue, and items training never saw get indices past it.
            if (!InteractionInput.TryRead(testUsersPath, header, trainLog.Items, context, out var testLog, out failure, option: "--test-users"))
            {
                return failure;
            }

            experiment = RecsExperiment.FoldInNewUsers(trainLog, testLog, trainPath!, testUsersPath, split);
            return ExitCodes.Ok;
        }

        if (!InteractionInput.TryRead(input!, header, null, context, out var log, out var readFailure, option: "--input"))
        {
            return readFailure;
        }

        if (protocol == RecsProtocol.KnownUsers)
        {
            return context.Fail(ExitCodes.BadInput, "KnownUsers takes --train FILE --test FILE.");
        }

        experiment = protocol switch
        {
            RecsProtocol.Holdout => RecsExperiment.Holdout(log, input!, split),
            RecsProtocol.LastK => RecsExperiment.LastK(log, input!, split),
            _ => RecsExperiment.FoldInHeldOutUsers(log, input!, split),
        };
        return ExitCodes.Ok;
    }

    /// <summary>
    /// The hyperparameter search of train-als (<see cref="AlsTuning"/>) on the training part: regularization, alpha and
    /// (without --factors) factors on a validation holdout carved out of it, so the test users are never looked at.
    /// </summary>
    private static async Task<AlsTuningResult?> SearchAsync(ParseResult parse, EvaluateRecsOptions o, CliContext context, RecsExperiment experiment, AlsOptions baseOptions, CancellationToken cancellationToken)
    {
        var tuning = new AlsTuningOptions
        {
            Base = baseOptions,
            ValidationFraction = parse.GetValue(o.ValidationFraction),
            Metric = parse.GetValue(o.SearchMetric)!,
            K = parse.GetValue(o.SearchK),
            Budget = TimeSpan.FromSeconds(parse.GetValue(o.SearchBudget)),
            FactorCandidates = o.Als.FactorCandidates(parse),
        };
        try
        {
            tuning.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            context.Fail(ExitCodes.BadInput, e.Message);
            return null;
        }

        return await AlsProgress.TuneWithProgressAsync(context, experiment.Train, tuning, cancellationToken);
    }
}
