using System.CommandLine;
using System.Globalization;
using Lasthope.Evaluation;
using Lasthope.Factors;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary>Training and the hyperparameter search with Spectre progress bars, shared by train-als and evaluate-recs.</summary>
internal static class AlsProgress
{
    /// <summary>
    /// Chooses the regularization, alpha and factors on a validation split with a progress bar (<see cref="AlsTuning.Tune"/>,
    /// or every point of a log grid with <paramref name="grid"/>: <see cref="AlsTuning.TuneByGrid"/>), then prints the
    /// chosen values and the best trials.
    /// </summary>
    public static async Task<AlsTuningResult> TuneWithProgressAsync(CliContext context, InteractionMatrix matrix, AlsTuningOptions tuning, CancellationToken cancellationToken, (int Regularizations, int Alphas, IReadOnlyList<int>? Factors)? grid = null)
    {
        if (grid?.Factors is { } gridFactors)
        {
            tuning = tuning with { FactorCandidates = gridFactors };
        }

        var searched = string.Join(", ", new[] { tuning.FixedRegularization is null ? "regularization" : null, tuning.FixedAlpha is null ? "alpha" : null, tuning.FactorChoices.Count > 1 ? "factors" : null }.OfType<string>());
        var box = string.Create(CultureInfo.InvariantCulture, $"regularization {tuning.MinRegularization:G4}-{tuning.MaxRegularization:G4}, alpha {tuning.MinAlpha:G4}-{tuning.MaxAlpha:G4}, factors {string.Join("/", tuning.FactorChoices)}");
        var points = grid is { } g ? AlsTuning.GridPoints(tuning, g.Regularizations, g.Alphas).Count : 0;
        var how = grid is null ? "successive halving and a pattern search on log scales" : $"a {points}-point log grid";
        context.Console.MarkupLineInterpolated($"[bold]choosing[/] {searched}: {how} ({box}), maximising {tuning.Objective}, budget {tuning.Budget.TotalSeconds:F0} s");
        AlsTuningResult result = null!;
        await context.Console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn())
            .StartAsync(async progress =>
            {
                // The search's length is its budget at most (the grid's, its points), so the bar runs against that.
                var task = progress.AddTask("search", maxValue: grid is null ? tuning.Budget.TotalSeconds : points);
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var best = double.NegativeInfinity;
                var sink = new InlineProgress<SearchTrial>(t =>
                {
                    if ((int)t.Parameters["iterations"] == tuning.Base.Iterations)
                    {
                        best = Math.Max(best, t.Score);
                    }

                    task.Description = string.Create(CultureInfo.InvariantCulture, $"search: trial {t.Index + 1} (lambda {t.Parameters["regularization"]:G3}, alpha {t.Parameters["alpha"]:G3}, {t.Parameters["factors"]} factors, {t.Parameters["iterations"]} it.) {t.Score:F4}; best {best:F4}");
                    task.Value = grid is null ? Math.Min(task.MaxValue, clock.Elapsed.TotalSeconds) : t.Index + 1;
                });
                result = await Task.Run(
                    () => grid is { } g2 ? AlsTuning.TuneByGrid(matrix, tuning, g2.Regularizations, g2.Alphas, sink, cancellationToken) : AlsTuning.Tune(matrix, tuning, sink, cancellationToken),
                    cancellationToken);
                task.Value = task.MaxValue;
            });

        var table = new Table().Border(TableBorder.Simple).AddColumns("trial", "regularization", "alpha", "factors", "iterations", $"{tuning.Metric}@{tuning.K}", "seconds");
        foreach (var t in result.Trials.Where(t => (int)t.Parameters["iterations"] == tuning.Base.Iterations).OrderByDescending(t => t.Score).Take(10))
        {
            table.AddRow(
                (t.Index + 1).ToString(CultureInfo.InvariantCulture),
                t.Parameters["regularization"].ToString("G4", CultureInfo.InvariantCulture),
                t.Parameters["alpha"].ToString("G4", CultureInfo.InvariantCulture),
                t.Parameters["factors"].ToString(CultureInfo.InvariantCulture),
                t.Parameters["iterations"].ToString(CultureInfo.InvariantCulture),
                t.Score.ToString("F4", CultureInfo.InvariantCulture),
                t.Elapsed.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture));
        }

        context.Console.Write(table);
        context.Console.MarkupLineInterpolated(
            $"[green]chosen[/] by {result.Method}: regularization {result.Chosen.Regularization:G4}, alpha {result.Chosen.Alpha:G4}, factors {result.Chosen.Factors} (iterations {result.Chosen.Iterations}); {result.Objective}: {result.Score:F4} over {result.ValidationUsers:N0} users; {result.Trials.Count} trials in {result.Elapsed.TotalSeconds:F1} s");
        if (result.BudgetExhausted)
        {
            context.Console.MarkupLine("[yellow]The search stopped at its time budget (--search-budget): the choice depends on this machine's speed.[/]");
        }

        return result;
    }

    public static Option<string?> GridOption() => new("--grid") { Description = "Instead of the adaptive search, train every point of a log grid over the same box on the same validation split: REGULARIZATIONSxALPHAS, each 1-100, times the factor choices (16/32/64 without --factors, or a list: 5x5x16/32/64/128); it stops at --search-budget too." };

    /// <summary>Reads --search-budget (seconds, in (0, 1 day]) and --grid (RxA, each 1-100); bad values exit 2 naming the option.</summary>
    public static bool TryReadSearch(ParseResult parse, CliContext context, Option<double> budgetOption, Option<string?>? gridOption, out TimeSpan budget, out (int Regularizations, int Alphas, IReadOnlyList<int>? Factors)? grid, out int failure)
    {
        budget = TimeSpan.Zero;
        grid = null;
        failure = ExitCodes.Ok;
        var seconds = parse.GetValue(budgetOption);
        if (!(seconds is > 0 and <= 86_400))
        {
            failure = context.Fail(ExitCodes.BadInput, $"--search-budget must be a number of seconds in (0, 86400], not {seconds.ToString(CultureInfo.InvariantCulture)}.");
            return false;
        }

        budget = TimeSpan.FromSeconds(seconds);
        if (gridOption is null || parse.GetValue(gridOption) is not { } text)
        {
            return true;
        }

        var parts = text.Split('x', 'X');
        List<int>? factors = null;
        if (parts.Length is not (2 or 3) || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var r) || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var a) || r is < 1 or > 100 || a is < 1 or > 100
            || (parts.Length == 3 && !TryParseFactors(parts[2], out factors)))
        {
            failure = context.Fail(ExitCodes.BadInput, $"--grid must be REGULARIZATIONSxALPHAS with each count in 1-100, optionally xF1/F2/... with increasing factor counts in 1-4096 (e.g. 5x5 or 5x5x16/32/64/128), not '{text}'.");
            return false;
        }

        grid = (r, a, factors);
        return true;
    }

    /// <summary>Increasing factor counts in 1-4096 separated by '/', at most 16 of them.</summary>
    private static bool TryParseFactors(string text, out List<int>? factors)
    {
        factors = [];
        foreach (var part in text.Split('/'))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n is < 1 or > 4096 || (factors.Count > 0 && n <= factors[^1]) || factors.Count == 16)
            {
                return false;
            }

            factors.Add(n);
        }

        return true;
    }

    public static Option<double> SearchBudgetOption() => new("--search-budget") { Description = "Seconds the hyperparameter search may take (it stops with the best point so far).", DefaultValueFactory = _ => new AlsTuningOptions().Budget.TotalSeconds };

    /// <summary>Trains with a Spectre progress bar (one step per iteration, with the loss), then prints the iterations.</summary>
    public static async Task<AlsModel> TrainWithProgressAsync(CliContext context, InteractionMatrix matrix, AlsOptions options, string label, CancellationToken cancellationToken)
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
}
