using System.CommandLine;
using System.Globalization;
using Lasthope.Evaluation;
using Lasthope.Trees;
using Lasthope.Trees.Data;
using Lasthope.Trees.Native;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary>
/// <c>lasthope train-ltr --train DATA --valid DATA --out MODEL</c>: LambdaMART with native LightGBM on LibSVM files with
/// LightGBM's <c>.query</c> files beside them (and <c>.position</c> files, used for position-bias correction when
/// present). Shows a progress bar with the validation NDCG, writes LightGBM model text, then reports NDCG@k on the
/// validation set with a bootstrap interval over queries, computed by Lasthope's evaluator on the written model.
/// </summary>
internal static class TrainLtrCommand
{
    public static Command Create(CliContext context)
    {
        var train = new Option<string>("--train") { Description = "Training data (LibSVM), with DATA.query beside it.", Required = true };
        var valid = new Option<string?>("--valid") { Description = "Validation data (LibSVM), with DATA.query beside it: progress, early stopping and the final NDCG." };
        var output = new Option<string>("--out", "-o") { Description = "Where to write the model (LightGBM text).", Required = true };
        var objective = new Option<string>("--objective") { Description = "lambdarank, binary or regression.", DefaultValueFactory = _ => "lambdarank" };
        objective.AcceptOnlyFromAmong("lambdarank", "binary", "regression");
        var iterations = new Option<int>("--iterations") { Description = "Boosting iterations (trees), at most.", DefaultValueFactory = _ => 100 };
        var learningRate = new Option<double>("--learning-rate") { Description = "Shrinkage.", DefaultValueFactory = _ => 0.1 };
        var leaves = new Option<int>("--num-leaves") { Description = "Leaves per tree.", DefaultValueFactory = _ => 31 };
        var minData = new Option<int>("--min-data-in-leaf") { Description = "Minimum rows per leaf.", DefaultValueFactory = _ => 20 };
        var minHessian = new Option<double>("--min-sum-hessian-in-leaf") { Description = "Minimum hessian sum per leaf.", DefaultValueFactory = _ => 1e-3 };
        var maxBin = new Option<int>("--max-bin") { Description = "Histogram bins per feature.", DefaultValueFactory = _ => 255 };
        var featureFraction = new Option<double>("--feature-fraction") { Description = "Share of features per tree.", DefaultValueFactory = _ => 1.0 };
        var baggingFraction = new Option<double>("--bagging-fraction") { Description = "Share of rows per bag.", DefaultValueFactory = _ => 1.0 };
        var baggingFreq = new Option<int>("--bagging-freq") { Description = "Re-bag every k iterations (0: no bagging).", DefaultValueFactory = _ => 0 };
        var evalAt = new Option<string>("--eval-at") { Description = "NDCG cut-offs, comma-separated.", DefaultValueFactory = _ => "1,3,5,10" };
        var labelGain = new Option<string?>("--label-gain") { Description = "Gain per label, comma-separated (default 2^label - 1)." };
        var earlyStopping = new Option<int>("--early-stopping") { Description = "Stop after this many iterations without a better validation NDCG at the largest cut-off (0: never).", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "Training threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var seed = new Option<int>("--seed") { Description = "Seed of bagging and feature sampling.", DefaultValueFactory = _ => 42 };
        var noPositions = new Option<bool>("--no-positions") { Description = "Ignore DATA.position even if it exists." };
        var parameters = new Option<string[]>("--param") { Description = "Any other LightGBM parameter, as name=value (repeatable).", AllowMultipleArgumentsPerToken = true };
        var command = new Command("train-ltr", "Train a LambdaMART ranker (LightGBM) on LibSVM data with .query files; shows validation NDCG per iteration and writes a LightGBM model.");
        foreach (var option in new Option[] { train, valid, output, objective, iterations, learningRate, leaves, minData, minHessian, maxBin, featureFraction, baggingFraction, baggingFreq, evalAt, labelGain, earlyStopping, threads, seed, noPositions, parameters })
        {
            command.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var trainPath = parse.GetValue(train)!;
            var validPath = parse.GetValue(valid);
            foreach (var path in new[] { trainPath, validPath })
            {
                if (path is not null && !File.Exists(path))
                {
                    return context.Fail(ExitCodes.NotFound, $"no data file {path}");
                }
            }

            int[] cutoffs;
            double[]? gains;
            Dictionary<string, string> extra;
            try
            {
                cutoffs = ParseList(parse.GetValue(evalAt)!, int.Parse);
                gains = parse.GetValue(labelGain) is { } lg ? ParseList(lg, s => double.Parse(s, CultureInfo.InvariantCulture)) : null;
                extra = (parse.GetValue(parameters) ?? []).Select(p => p.Split('=', 2)).ToDictionary(
                    p => p.Length == 2 ? p[0].Trim() : throw new FormatException($"--param {p[0]} is not name=value."), p => p[1].Trim());
            }
            catch (FormatException e)
            {
                return context.Fail(ExitCodes.BadInput, e.Message);
            }

            var kind = parse.GetValue(objective) switch
            {
                "binary" => LightGbmObjective.Binary,
                "regression" => LightGbmObjective.Regression,
                _ => LightGbmObjective.LambdaRank,
            };

            DenseDataset trainSet;
            DenseDataset? validSet = null;
            try
            {
                trainSet = DenseDataset.ReadLibSvm(trainPath);
                if (validPath is not null)
                {
                    validSet = DenseDataset.ReadLibSvm(validPath, trainSet.Columns);
                }
            }
            catch (FormatException e)
            {
                return context.Fail(ExitCodes.BadInput, e.Message);
            }

            if (kind == LightGbmObjective.LambdaRank && (trainSet.Groups.Length == 0 || (validSet is not null && validSet.Groups.Length == 0)))
            {
                return context.Fail(ExitCodes.BadInput, "lambdarank needs query groups: put LightGBM's DATA.query file (one group size per line) beside each data file.");
            }

            var usePositions = !parse.GetValue(noPositions) && trainSet.Positions.Length > 0;
            var options = new LightGbmTrainingOptions
            {
                Objective = kind,
                Iterations = parse.GetValue(iterations),
                LearningRate = parse.GetValue(learningRate),
                NumLeaves = parse.GetValue(leaves),
                MinDataInLeaf = parse.GetValue(minData),
                MinSumHessianInLeaf = parse.GetValue(minHessian),
                MaxBin = parse.GetValue(maxBin),
                FeatureFraction = parse.GetValue(featureFraction),
                BaggingFraction = parse.GetValue(baggingFraction),
                BaggingFrequency = parse.GetValue(baggingFreq),
                EvalAt = cutoffs,
                LabelGain = gains,
                EarlyStoppingRounds = parse.GetValue(earlyStopping),
                EarlyStoppingMetric = kind == LightGbmObjective.LambdaRank && validSet is not null ? $"ndcg@{cutoffs.Max()}" : null,
                Threads = Math.Max(1, parse.GetValue(threads)),
                Seed = parse.GetValue(seed),
                Parameters = extra,
            };
            context.Console.MarkupLineInterpolated(
                $"[grey]train: {trainSet.Rows:N0} rows, {trainSet.Groups.Length:N0} queries, {trainSet.Columns:N0} features{(usePositions ? ", positions" : "")}; valid: {(validSet is null ? "none" : $"{validSet.Rows:N0} rows, {validSet.Groups.Length:N0} queries")}[/]");

            TrainingResult result;
            try
            {
                result = await TrainWithProgressAsync(context, options, ToTraining(trainSet, usePositions), validSet is null ? null : ToTraining(validSet, false), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return context.Fail(ExitCodes.Cancelled, "training was cancelled.");
            }
            catch (Exception e) when (e is LightGbmException or ArgumentException)
            {
                return context.Fail(ExitCodes.BadInput, e.Message);
            }

            var outPath = parse.GetValue(output)!;
            try
            {
                await File.WriteAllTextAsync(outPath, result.ModelText, cancellationToken);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return context.Fail(ExitCodes.Failure, $"cannot write {outPath}: {e.Message}");
            }

            var model = TreeModel.FromLightGbm(result.ModelText);
            context.Console.MarkupLineInterpolated($"[green]Wrote {outPath}[/]: {model.TreeCount} trees ({result.IterationsRun} run, best validation iteration {result.BestIteration}), {model.Fingerprint}");
            if (validSet is not null && kind == LightGbmObjective.LambdaRank)
            {
                context.Console.Write(NdcgTable(model, validSet, cutoffs, gains));
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<TrainingResult> TrainWithProgressAsync(CliContext context, LightGbmTrainingOptions options, TrainingData train, TrainingData? valid, CancellationToken cancellationToken)
    {
        TrainingResult? result = null;
        await context.Console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask($"{options.Objective}: {options.Iterations} iterations", maxValue: options.Iterations);
                void Report(TrainingProgress p)
                {
                    var metrics = string.Join(" ", p.Validation.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Name} {m.Value:F4}")));
                    task.Description = string.Create(CultureInfo.InvariantCulture, $"iteration {p.Iteration}/{p.Total} {metrics} (best {p.BestIteration})");
                    task.Value = p.Iteration;
                }

                result = await Task.Run(() => LightGbmTrainer.Train(options, train, valid, Report, cancellationToken), cancellationToken);
                task.Value = task.MaxValue;
            });

        // The bar shows the latest iteration; the log keeps every tenth, the last and the best.
        var history = result!.History;
        if (history.Count > 0 && history[0].Validation.Count > 0)
        {
            var table = new Table().Border(TableBorder.Simple).AddColumn("iteration");
            foreach (var m in history[0].Validation)
            {
                table.AddColumn(new TableColumn(m.Name).RightAligned());
            }

            foreach (var p in history.Where(p => p.Iteration % 10 == 0 || p.Iteration == 1 || p.Iteration == history.Count || p.Iteration == result.BestIteration))
            {
                var mark = p.Iteration == result.BestIteration ? " best" : "";
                table.AddRow([p.Iteration.ToString(CultureInfo.InvariantCulture) + mark, .. p.Validation.Select(m => m.Value.ToString("F4", CultureInfo.InvariantCulture))]);
            }

            context.Console.Write(table);
        }

        return result;
    }

    /// <summary>NDCG@k of the model on a data set, per query, with a 95% percentile bootstrap interval over queries.</summary>
    internal static Table NdcgTable(TreeModel model, DenseDataset data, IReadOnlyList<int> cutoffs, double[]? gains)
    {
        var scores = new double[data.Rows];
        model.Score(data.Features, scores);
        var offsets = data.GroupOffsets();
        var labels = data.Labels.Select(l => (int)l).ToArray();
        var table = new Table().Border(TableBorder.Simple).Title("validation NDCG (Lasthope evaluator, 95% bootstrap over queries)")
            .AddColumn("k").AddColumn(new TableColumn("NDCG@k").RightAligned()).AddColumn(new TableColumn("95% interval").RightAligned());
        foreach (var k in cutoffs)
        {
            var perQuery = new double[data.Groups.Length];
            for (var q = 0; q < perQuery.Length; q++)
            {
                var range = offsets[q]..offsets[q + 1];
                perQuery[q] = Ndcg.AtK(scores.AsSpan()[range], labels.AsSpan()[range], k, gains);
            }

            var interval = Bootstrap.MeanInterval(perQuery, 0.95, 2000, seed: 1);
            table.AddRow(
                k.ToString(CultureInfo.InvariantCulture),
                interval.Estimate.ToString("F4", CultureInfo.InvariantCulture),
                Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"[{interval.Lower:F4}, {interval.Upper:F4}]")));
        }

        return table;
    }

    private static TrainingData ToTraining(DenseDataset data, bool positions) =>
        new(data.Features, data.Rows, data.Columns, data.Labels)
        {
            Groups = data.Groups,
            Positions = positions ? data.Positions : default,
        };

    private static T[] ParseList<T>(string text, Func<string, T> parse)
    {
        try
        {
            return [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(parse)];
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new FormatException($"'{text}' is not a comma-separated list of numbers.", e);
        }
    }
}
