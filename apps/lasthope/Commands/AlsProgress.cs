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
    /// Chooses the regularization and alpha on a validation split with a progress bar, then prints the chosen values
    /// and the best trials (<see cref="AlsTuning.Tune"/>).
    /// </summary>
    public static async Task<AlsTuningResult> TuneWithProgressAsync(CliContext context, InteractionMatrix matrix, AlsTuningOptions tuning, CancellationToken cancellationToken)
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

    public static Option<double> SearchBudgetOption() => new("--search-budget") { Description = "Seconds the hyperparameter search may take (it stops with the best point so far).", DefaultValueFactory = _ => 180 };

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
