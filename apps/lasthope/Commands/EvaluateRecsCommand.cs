using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Lasthope.Evaluation;
using Lasthope.Factors;
using ScottPlot;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary>
/// <c>lasthope evaluate-recs</c>: an honest offline evaluation of ALS against the popularity baseline, with bootstrap
/// intervals over users, an optional hyperparameter search on a validation split carved out of the training part, and
/// JSON and chart output.
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
    internal enum Protocol
    {
        Holdout,
        LastK,
        FoldIn,
        KnownUsers,
    }

    public static Command Create(CliContext context)
    {
        var o = new EvaluateOptions();
        var command = new Command("evaluate-recs", "Evaluate ALS against popularity: P@k, R@k, NDCG@k, MAP@k and coverage with bootstrap 95% intervals.");
        o.AddTo(command);
        command.SetAction((parse, cancellationToken) => RunAsync(parse, o, context, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, EvaluateOptions o, CliContext context, CancellationToken cancellationToken)
    {
        if (!o.Als.TryRead(parse, context, out var alsOptions, out var failure))
        {
            return failure;
        }

        if (!TryParseList(parse.GetValue(o.K)!, int.Parse, out var ks) || ks.Length == 0 || ks.Any(k => k < 1))
        {
            return context.Fail(ExitCodes.BadInput, "--k must list cut-offs of at least 1, separated by commas (e.g. 1,5,10,20).");
        }

        var clock = Stopwatch.StartNew();
        Experiment experiment;
        try
        {
            var prepared = Prepare(parse, o, context, alsOptions.Seed, out experiment);
            if (prepared != ExitCodes.Ok)
            {
                return prepared;
            }
        }
        catch (ArgumentOutOfRangeException e)
        {
            return context.Fail(ExitCodes.BadInput, e.Message);
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

            var model = await AlsCommands.TrainWithProgressAsync(context, experiment.Train, alsOptions, "final", cancellationToken);
            var popularity = PopularityModel.Build(experiment.Train);
            ITopKRecommender als = experiment.FoldIn ? new AlsFoldInRecommender(model) : new AlsKnownUserRecommender(model);
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

            PrintTable(context, report);
            WriteTsv(context.Out, report);
            var seconds = clock.Elapsed.TotalSeconds;
            if (parse.GetValue(o.Json) is { } jsonPath)
            {
                var json = ReportJson(experiment, model, report, search, seconds);
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
                if (!TryDrawChart(report, experiment.Description, chartPath, out var error))
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

    /// <summary>The training matrix and the evaluation users of one protocol.</summary>
    internal sealed record Experiment(
        string Description, Protocol Protocol, InteractionMatrix Train, IReadOnlyList<EvaluationUser> Users, bool FoldIn,
        IReadOnlyDictionary<string, object> Settings);

    private static int Prepare(ParseResult parse, EvaluateOptions o, CliContext context, int seed, out Experiment experiment)
    {
        experiment = null!;
        var input = parse.GetValue(o.Input);
        var trainPath = parse.GetValue(o.Train);
        var testUsersPath = parse.GetValue(o.TestUsers);
        var header = parse.GetValue(o.Header);
        var minTrain = parse.GetValue(o.MinTrainItems);
        var testPath = parse.GetValue(o.Test);
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
            if (parse.GetValue(o.Protocol) is { } asked && asked != Protocol.KnownUsers)
            {
                return context.Fail(ExitCodes.BadInput, "--test is the KnownUsers protocol.");
            }

            if (!InteractionInput.TryRead(trainPath!, header, null, context, out var trainLog, out var failure))
            {
                return failure;
            }

            // Test ids map onto the training log's: a shared id is the same user (or item).
            if (!InteractionInput.TryRead(testPath, header, trainLog.Items, context, out var testLog, out failure, trainLog.Users))
            {
                return failure;
            }

            var (train, split) = KnownUserProtocol.Create(trainLog, testLog);
            context.Console.MarkupLineInterpolated(
                $"[grey]{Path.GetFileName(testPath)}: {split.Users.Count:N0} known users evaluated; left out: {split.UnknownUsers:N0} users absent from training, {split.UsersWithNothingNew:N0} whose test items were all seen in training, {split.SeenPairs:N0} (user, item) pairs seen in training[/]");
            experiment = new Experiment(
                $"known users of {Path.GetFileName(testPath)} after {Path.GetFileName(trainPath)}", Protocol.KnownUsers, train, split.Users, false,
                new Dictionary<string, object> { ["train"] = trainPath!, ["test"] = testPath, ["unknownTestUsers"] = split.UnknownUsers, ["usersWithNothingNew"] = split.UsersWithNothingNew, ["seenTestPairs"] = split.SeenPairs });
            return ExitCodes.Ok;
        }

        var protocol = parse.GetValue(o.Protocol) ?? (testUsersPath is not null ? Protocol.FoldIn : Protocol.Holdout);
        var foldInFraction = parse.GetValue(o.FoldInFraction);
        if (testUsersPath is not null)
        {
            if (protocol != Protocol.FoldIn)
            {
                return context.Fail(ExitCodes.BadInput, "--test-users is the fold-in protocol.");
            }

            if (!InteractionInput.TryRead(trainPath!, header, null, context, out var trainLog, out var failure))
            {
                return failure;
            }

            // The new users live in a log of their own (so an id shared with a training user is a different person);
            // their items map onto the training catalogue, and items training never saw get indices past it.
            if (!InteractionInput.TryRead(testUsersPath, header, trainLog.Items, context, out var testLog, out failure))
            {
                return failure;
            }

            var isTest = Splits.PerUserHoldout(testLog.UserIndices, testLog.ItemIndices, 1 - foldInFraction, seed, minTrain);
            var users = EvaluationUser.FromSplit(testLog.UserIndices, testLog.ItemIndices, testLog.Weights, isTest);
            experiment = new Experiment(
                $"fold-in of {Path.GetFileName(testUsersPath)} into {Path.GetFileName(trainPath)}", protocol, trainLog.ToMatrix(), users, true,
                new Dictionary<string, object> { ["train"] = trainPath!, ["testUsers"] = testUsersPath, ["foldInFraction"] = foldInFraction, ["testUserCount"] = testLog.Users.Count, ["unknownTestItems"] = testLog.Items.Count - trainLog.Items.Count, ["minTrainItems"] = minTrain, ["seed"] = seed });
            return ExitCodes.Ok;
        }

        if (!InteractionInput.TryRead(input!, header, null, context, out var log, out var readFailure))
        {
            return readFailure;
        }

        switch (protocol)
        {
            case Protocol.Holdout:
            case Protocol.LastK:
            {
                bool[] isTest;
                Dictionary<string, object> settings;
                if (protocol == Protocol.Holdout)
                {
                    var fraction = parse.GetValue(o.HoldoutFraction);
                    isTest = Splits.PerUserHoldout(log.UserIndices, log.ItemIndices, fraction, seed, minTrain);
                    settings = new() { ["input"] = input!, ["holdoutFraction"] = fraction, ["minTrainItems"] = minTrain, ["seed"] = seed };
                }
                else
                {
                    if (!log.HasTimestamps)
                    {
                        return context.Fail(ExitCodes.BadInput, $"{input} has no timestamp column: leave-last-k needs user,item,weight,timestamp.");
                    }

                    var k = parse.GetValue(o.LastK);
                    isTest = Splits.LeaveLastK(log.UserIndices, log.ItemIndices, log.Timestamps, k, minTrain);
                    settings = new() { ["input"] = input!, ["lastK"] = k, ["minTrainItems"] = minTrain };
                }

                var include = isTest.Select(t => !t).ToArray();
                experiment = new Experiment(
                    protocol == Protocol.Holdout ? $"per-user holdout on {Path.GetFileName(input)}" : $"leave-last-k on {Path.GetFileName(input)}",
                    protocol, log.ToMatrix(include), EvaluationUser.FromSplit(log.UserIndices, log.ItemIndices, log.Weights, isTest), false, settings);
                return ExitCodes.Ok;
            }

            case Protocol.KnownUsers:
                return context.Fail(ExitCodes.BadInput, "KnownUsers takes --train FILE --test FILE.");

            default:
            {
                var userFraction = parse.GetValue(o.TestUserFraction);
                var isTestUser = Splits.HoldOutUsers(log.Users.Count, userFraction, seed);
                var holdout = Splits.PerUserHoldout(log.UserIndices, log.ItemIndices, 1 - foldInFraction, seed, minTrain);
                var isTest = new bool[log.Count];
                var include = new bool[log.Count];
                for (var e = 0; e < log.Count; e++)
                {
                    var testUser = isTestUser[log.UserIndices[e]];
                    isTest[e] = testUser && holdout[e];
                    include[e] = !testUser;
                }

                // Known = the folded-in part of test users only: training users have no test items and drop out.
                var users = EvaluationUser.FromSplit(log.UserIndices, log.ItemIndices, log.Weights, isTest)
                    .Where(user => isTestUser[user.User]).ToList();
                experiment = new Experiment(
                    $"fold-in of held-out users of {Path.GetFileName(input)}", protocol, log.ToMatrix(include), users, true,
                    new Dictionary<string, object> { ["input"] = input!, ["testUserFraction"] = userFraction, ["foldInFraction"] = foldInFraction, ["minTrainItems"] = minTrain, ["seed"] = seed });
                return ExitCodes.Ok;
            }
        }
    }

    /// <summary>
    /// The hyperparameter search of train-als (<see cref="AlsTuning"/>) on the training part: regularization and alpha
    /// on a validation holdout carved out of it, so the test users are never looked at.
    /// </summary>
    private static async Task<AlsTuningResult?> SearchAsync(ParseResult parse, EvaluateOptions o, CliContext context, Experiment experiment, AlsOptions baseOptions, CancellationToken cancellationToken)
    {
        var tuning = new AlsTuningOptions
        {
            Base = baseOptions,
            ValidationFraction = parse.GetValue(o.ValidationFraction),
            Metric = parse.GetValue(o.SearchMetric)!,
            K = parse.GetValue(o.SearchK),
            Budget = TimeSpan.FromSeconds(parse.GetValue(o.SearchBudget)),
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

        return await AlsCommands.TuneWithProgressAsync(context, experiment.Train, tuning, cancellationToken);
    }

    private static bool TryParseList<T>(string text, Func<string, T> parse, out T[] values)
    {
        try
        {
            values = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(parse).ToArray();
            return true;
        }
        catch (FormatException)
        {
            values = [];
            return false;
        }
        catch (OverflowException)
        {
            values = [];
            return false;
        }
    }

    private static void PrintTable(CliContext context, RecsEvaluationReport report)
    {
        var table = new Spectre.Console.Table().Border(TableBorder.Rounded)
            .Title(Markup.Escape($"{report.Users:N0} users, {report.Level:P0} bootstrap intervals ({report.Resamples} resamples); precision divides by {(report.Precision == PrecisionDenominator.K ? "k" : "min(k, |test|)")}"))
            .AddColumns("metric", Markup.Escape(report.ModelName), Markup.Escape(report.BaselineName), Markup.Escape($"{report.ModelName} - {report.BaselineName}"), "paired difference");
        foreach (var m in report.Metrics)
        {
            table.AddRow(
                Markup.Escape($"{m.Metric}@{m.K}"),
                Markup.Escape(m.Model.ToString()),
                Markup.Escape(m.Baseline.ToString()),
                Markup.Escape(m.Difference.ToString()),
                m.ModelAboveBaseline ? "[green]above[/]" : m.ModelBelowBaseline ? "[red]below[/]" : "[yellow]not shown[/]");
        }

        context.Console.Write(table);
    }

    private static void WriteTsv(TextWriter output, RecsEvaluationReport report)
    {
        var m0 = report.ModelName;
        var b0 = report.BaselineName;
        output.WriteLine($"metric\tk\t{m0}\t{m0}_lower\t{m0}_upper\t{b0}\t{b0}_lower\t{b0}_upper\tdifference\tdifference_lower\tdifference_upper");
        foreach (var m in report.Metrics)
        {
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{m.Metric}\t{m.K}\t{m.Model.Estimate:F6}\t{m.Model.Lower:F6}\t{m.Model.Upper:F6}\t{m.Baseline.Estimate:F6}\t{m.Baseline.Lower:F6}\t{m.Baseline.Upper:F6}\t{m.Difference.Estimate:F6}\t{m.Difference.Lower:F6}\t{m.Difference.Upper:F6}"));
        }
    }

    private static string ReportJson(Experiment experiment, AlsModel model, RecsEvaluationReport report, AlsTuningResult? search, double seconds)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("protocol", experiment.Protocol switch { Protocol.Holdout => "holdout", Protocol.LastK => "last-k", Protocol.KnownUsers => "known-users", _ => "fold-in" });
            w.WriteString("description", experiment.Description);
            w.WriteStartObject("split");
            foreach (var (key, value) in experiment.Settings)
            {
                switch (value)
                {
                    case string s:
                        w.WriteString(key, s);
                        break;
                    case int i:
                        w.WriteNumber(key, i);
                        break;
                    case double d:
                        w.WriteNumber(key, d);
                        break;
                }
            }

            w.WriteEndObject();
            w.WriteStartObject("train");
            w.WriteNumber("users", experiment.Train.Users.Count);
            w.WriteNumber("items", experiment.Train.Items.Count);
            w.WriteNumber("interactions", experiment.Train.NonZeros);
            w.WriteEndObject();
            w.WriteNumber("evaluationUsers", report.Users);
            w.WriteNumber("catalogueSize", report.CatalogueSize);
            var o = model.Training.Options;
            w.WriteStartObject("model");
            w.WriteString("name", report.ModelName);
            w.WriteString("version", model.Version);
            w.WriteNumber("factors", o.Factors);
            w.WriteNumber("regularization", o.Regularization);
            w.WriteNumber("alpha", o.Alpha);
            w.WriteNumber("iterations", o.Iterations);
            w.WriteNumber("cgSteps", o.CgSteps);
            w.WriteString("solver", o.Solver.ToString());
            w.WriteNumber("seed", o.Seed);
            w.WriteEndObject();
            w.WriteString("baseline", report.BaselineName);
            w.WriteString("precisionDenominator", report.Precision == PrecisionDenominator.K ? "k" : "min(k,|test|)");
            w.WriteNumber("level", report.Level);
            w.WriteNumber("resamples", report.Resamples);
            if (search is not null)
            {
                w.WriteStartObject("search");
                w.WriteString("objective", search.Objective);
                w.WriteNumber("validationUsers", search.ValidationUsers);
                w.WriteNumber("seconds", Math.Round(search.Elapsed.TotalSeconds, 2));
                w.WriteBoolean("budgetExhausted", search.BudgetExhausted);
                w.WriteStartObject("best");
                w.WriteNumber("regularization", search.Chosen.Regularization);
                w.WriteNumber("alpha", search.Chosen.Alpha);
                w.WriteNumber("score", search.Score);
                w.WriteEndObject();
                w.WriteStartArray("trials");
                foreach (var t in search.Trials)
                {
                    w.WriteStartObject();
                    WriteParameters(w, t.Parameters);
                    if (double.IsFinite(t.Score))
                    {
                        w.WriteNumber("score", t.Score);
                    }

                    w.WriteNumber("seconds", Math.Round(t.Elapsed.TotalSeconds, 3));
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteStartArray("metrics");
            foreach (var m in report.Metrics)
            {
                w.WriteStartObject();
                w.WriteString("metric", m.Metric);
                w.WriteNumber("k", m.K);
                WriteInterval(w, report.ModelName, m.Model);
                WriteInterval(w, report.BaselineName, m.Baseline);
                WriteInterval(w, "difference", m.Difference);
                w.WriteBoolean($"{report.ModelName}Above{char.ToUpperInvariant(report.BaselineName[0])}{report.BaselineName[1..]}", m.ModelAboveBaseline);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteNumber("seconds", Math.Round(seconds, 2));
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteParameters(Utf8JsonWriter w, IReadOnlyDictionary<string, double> parameters)
    {
        foreach (var (name, value) in parameters)
        {
            w.WriteNumber(name, value);
        }
    }

    private static void WriteInterval(Utf8JsonWriter w, string name, Interval interval)
    {
        w.WriteStartObject(name);
        w.WriteNumber("estimate", interval.Estimate);
        w.WriteNumber("lower", interval.Lower);
        w.WriteNumber("upper", interval.Upper);
        w.WriteEndObject();
    }

    /// <summary>
    /// One panel per metric, metric against k, model and baseline as lines with their intervals shaded. PNG through
    /// ScottPlot's multiplot; SVG by nesting each panel's SVG in one document (ScottPlot's multiplot writes PNG only).
    /// </summary>
    internal static bool TryDrawChart(RecsEvaluationReport report, string title, string path, out string error)
    {
        error = "";
        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension is not (".png" or ".svg"))
        {
            error = $"--chart must end in .png or .svg, not '{extension}'.";
            return false;
        }

        const int Width = 480, Height = 340, Columns = 3;
        var metrics = RecsMetrics.All;
        var plots = metrics.Select(metric => Panel(report, metric, title)).ToArray();
        var rows = (plots.Length + Columns - 1) / Columns;
        if (extension == ".png")
        {
            // A new multiplot holds one empty plot: replace it with the first panel.
            var multiplot = new Multiplot();
            multiplot.Reset(plots[0]);
            foreach (var plot in plots.Skip(1))
            {
                multiplot.AddPlot(plot);
            }

            for (var k = plots.Length; k < rows * Columns; k++)
            {
                multiplot.AddPlot(InfoPanel(report, title));
            }

            multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, Columns);
            multiplot.SavePng(path, Width * Columns, Height * rows);
            return true;
        }

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"{Width * Columns}\" height=\"{Height * rows}\">\n");
        for (var k = 0; k < plots.Length; k++)
        {
            var inner = plots[k].GetSvgXml(Width, Height);
            var start = inner.IndexOf("<svg", StringComparison.Ordinal);
            inner = inner[start..];
            var x = k % Columns * Width;
            var y = k / Columns * Height;
            svg.Append(inner.Insert(4, string.Create(CultureInfo.InvariantCulture, $" x=\"{x}\" y=\"{y}\""))).Append('\n');
        }

        svg.Append("</svg>\n");
        File.WriteAllText(path, svg.ToString());
        return true;
    }

    private static Plot Panel(RecsEvaluationReport report, string metric, string title)
    {
        var rows = report.Metrics.Where(m => m.Metric == metric).OrderBy(m => m.K).ToArray();
        var xs = rows.Select(m => (double)m.K).ToArray();
        var plot = new Plot();
        void Series(string name, Func<MetricComparison, Interval> pick, ScottPlot.Color color)
        {
            var fill = plot.Add.FillY(xs, rows.Select(m => pick(m).Lower).ToArray(), rows.Select(m => pick(m).Upper).ToArray());
            fill.FillColor = color.WithAlpha(0.2);
            fill.LineColor = ScottPlot.Colors.Transparent;
            var line = plot.Add.Scatter(xs, rows.Select(m => pick(m).Estimate).ToArray());
            line.Color = color;
            line.LineWidth = 2;
            line.MarkerSize = 6;
            line.LegendText = name;
        }

        Series(report.ModelName, m => m.Model, ScottPlot.Colors.C0);
        Series(report.BaselineName, m => m.Baseline, ScottPlot.Colors.C1);
        plot.Title($"{metric}@k");
        plot.XLabel("k");
        plot.YLabel(metric);
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    /// <summary>The empty cell of the grid says what was measured.</summary>
    private static Plot InfoPanel(RecsEvaluationReport report, string title)
    {
        var plot = new Plot();
        plot.Axes.Frameless();
        plot.HideGrid();
        var text = plot.Add.Text(
            string.Create(CultureInfo.InvariantCulture, $"{title}\n{report.Users:N0} users, catalogue {report.CatalogueSize:N0}\nshaded: {report.Level:P0} bootstrap intervals\n({report.Resamples} resamples of users)\nprecision divides by {(report.Precision == PrecisionDenominator.K ? "k" : "min(k, |test|)")}"),
            0, 0);
        text.LabelFontSize = 13;
        text.LabelAlignment = Alignment.MiddleCenter;
        plot.Axes.SetLimits(-1, 1, -1, 1);
        return plot;
    }

    /// <summary>The command's options, in one place so the action can read them.</summary>
    private sealed class EvaluateOptions
    {
        public Option<string?> Input { get; } = new("--input", "-i") { Description = "One CSV of user,item[,weight[,timestamp]]: split per user (holdout, last-k) or by users (fold-in)." };

        public Option<string?> Train { get; } = new("--train") { Description = "Training CSV (with --test-users: the fold-in protocol)." };

        public Option<string?> TestUsers { get; } = new("--test-users") { Description = "CSV of users absent from --train (ids are namespaced apart): part folded in, the rest predicted." };

        public Option<string?> Test { get; } = new("--test") { Description = "CSV of held-out interactions of --train's users (the same ids): each known user is scored on their new items, their training items excluded." };

        public Option<CsvHeader> Header { get; } = new("--header") { Description = "Whether the CSVs' first line is a header.", DefaultValueFactory = _ => CsvHeader.Auto };

        public Option<Protocol?> Protocol { get; } = new("--protocol") { Description = "Holdout, LastK or FoldIn (default: Holdout with --input, FoldIn with --test-users)." };

        public Option<double> HoldoutFraction { get; } = new("--holdout-fraction") { Description = "Holdout: share of each user's items held out.", DefaultValueFactory = _ => 0.2 };

        public Option<int> LastK { get; } = new("--last-k") { Description = "LastK: each user's most recent items held out.", DefaultValueFactory = _ => 1 };

        public Option<double> FoldInFraction { get; } = new("--fold-in-fraction") { Description = "FoldIn: share of each new user's items folded in; the rest is predicted.", DefaultValueFactory = _ => 0.5 };

        public Option<double> TestUserFraction { get; } = new("--test-user-fraction") { Description = "FoldIn with --input: share of users held out whole.", DefaultValueFactory = _ => 0.1 };

        public Option<int> MinTrainItems { get; } = new("--min-train-items") { Description = "Items each user keeps on the known side (users with no more are not evaluated).", DefaultValueFactory = _ => 1 };

        public Option<string> K { get; } = new("--k") { Description = "Cut-offs, comma-separated.", DefaultValueFactory = _ => "1,3,5,10,20" };

        public Option<PrecisionDenominator> Precision { get; } = new("--precision") { Description = "Precision denominator: K (standard) or MinKRelevant (min(k, |test|), as implicit).", DefaultValueFactory = _ => PrecisionDenominator.K };

        public Option<int> Resamples { get; } = new("--resamples") { Description = "Bootstrap resamples of the users.", DefaultValueFactory = _ => 1000 };

        public Option<double> Level { get; } = new("--level") { Description = "Confidence level of the intervals.", DefaultValueFactory = _ => 0.95 };

        public Option<bool> Search { get; } = new("--search") { Description = "Choose regularization and alpha first, as train-als does without them: a search on a validation split of the training part." };

        public Option<double> ValidationFraction { get; } = new("--validation-fraction") { Description = "Search: share of each training user's items held out for validation.", DefaultValueFactory = _ => 0.2 };

        public Option<string> SearchMetric { get; } = new("--search-metric") { Description = "Search objective: precision, recall, ndcg, map or coverage.", DefaultValueFactory = _ => RecsMetrics.Ndcg };

        public Option<int> SearchK { get; } = new("--search-k") { Description = "Search objective cut-off.", DefaultValueFactory = _ => 10 };

        public Option<double> SearchBudget { get; } = AlsCommands.SearchBudgetOption();

        public Option<string?> Json { get; } = new("--json") { Description = "Write the results as JSON to FILE ('-' for standard output)." };

        public Option<string?> Chart { get; } = new("--chart") { Description = "Draw metric against k for ALS and popularity to FILE (.png or .svg)." };

        public AlsParameterOptions Als { get; } = new();

        public void AddTo(Command command)
        {
            foreach (var option in new Option[]
            {
                Input, Train, TestUsers, Test, Header, Protocol, HoldoutFraction, LastK, FoldInFraction, TestUserFraction, MinTrainItems,
                K, Precision, Resamples, Level, Search, ValidationFraction, SearchMetric, SearchK, SearchBudget, Json, Chart,
            })
            {
                command.Add(option);
            }

            Als.AddTo(command);
        }
    }
}
