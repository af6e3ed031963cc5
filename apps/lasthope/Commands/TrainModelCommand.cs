using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Lasthope.Core.Identifiers;
using Lasthope.Core.Storage;
using Lasthope.Evaluation;
using Lasthope.Server.Hosting;
using Lasthope.Server.Models;
using Lasthope.Server.Predict;
using Lasthope.Training.Tabular;
using Lasthope.Trees.Native;
using Microsoft.Extensions.Logging.Abstractions;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary>
/// <c>lasthope train-model</c>: a tabular model (binary, regression, multiclass) trained by native LightGBM with early
/// stopping, measured on held-out rows beside the prior and a linear baseline, with intervals and a verdict; writes
/// the predictor package, and optionally registers (and activates) it with its fallback.
/// </summary>
internal static class TrainModelCommand
{
    public static Command Create(CliContext context)
    {
        var task = new Option<string>("--task") { Description = "binary, regression or multiclass.", Required = true };
        var dataFile = new Option<string>("--data-file", "--csv") { Description = "The training table (CSV with a header row, or see --columns).", Required = true };
        var label = new Option<string>("--label") { Description = "The label's column.", Required = true };
        var columns = new Option<string?>("--columns") { Description = "Comma-separated column names of a file without a header row." };
        var categorical = new Option<string?>("--categorical") { Description = "Comma-separated columns to treat as categories (a column with any non-number is one already)." };
        var ignore = new Option<string?>("--ignore") { Description = "Comma-separated columns not to use (ids, leaks)." };
        var weight = new Option<string?>("--weight") { Description = "A column of per-row weights (non-negative numbers): they count in training, in the validation loss that stops it early, and in the held-out metrics (a row of weight 2 counts as two; the bootstrap resamples rows)." };
        var positive = new Option<string?>("--positive") { Description = "Binary: the label value of the positive class (default: labels 0 and 1)." };
        var costs = new Option<string?>("--cost-matrix") { Description = "Binary: FP,FN, the costs of a false positive and a false negative; the threshold minimises their expected sum (FP / (FP + FN))." };
        var decisions = new Option<string?>("--decisions") { Description = "Binary: the decision names above and below the threshold, POSITIVE,NEGATIVE (for example refuse,approve)." };
        var target = new Option<string>("--target") { Description = "What the prediction is of, for the reasons' phrases (\"raises the risk\").", DefaultValueFactory = _ => "score" };
        var reasons = new Option<string?>("--reasons") { Description = "A JSON file of phrases: {\"feature\": {\"raises\": \"...\", \"lowers\": \"...\"}}." };
        var name = new Option<string?>("--name") { Description = "The predictor's name (POST /v1/predict/NAME); default the file's name." };
        var fallback = new Option<string>("--fallback") { Description = "scorecard (the logistic or linear baseline) or constant (the prior).", DefaultValueFactory = _ => "scorecard" };
        var budget = new Option<int>("--budget-ms") { Description = "The model's budget per predict request.", DefaultValueFactory = _ => 50 };
        var trees = new Option<int>("--trees") { Description = "Boosting iterations at most (early stopping keeps fewer).", DefaultValueFactory = _ => 1000 };
        var leaves = new Option<int>("--leaves") { Description = "Leaves per tree.", DefaultValueFactory = _ => 31 };
        var learningRate = new Option<double>("--learning-rate") { Description = "Shrinkage.", DefaultValueFactory = _ => 0.05 };
        var earlyStopping = new Option<int>("--early-stopping-rounds") { Description = "Stop when the validation loss has not improved for this many trees; 0 trains every tree.", DefaultValueFactory = _ => 50 };
        var parameters = new Option<string[]>("--param") { Description = "Any other LightGBM parameter, as name=value (repeatable; for example is_unbalance=true).", AllowMultipleArgumentsPerToken = true };
        var threads = new Option<int>("--threads") { Description = "LightGBM's threads.", DefaultValueFactory = _ => 2 };
        var seed = new Option<int>("--seed") { Description = "Seed of the split, the trees and the bootstrap.", DefaultValueFactory = _ => 42 };
        var output = new Option<string?>("--out", "-o") { Description = "Where to write the predictor package (JSON)." };
        var json = new Option<string?>("--json") { Description = "Write the comparison as JSON." };
        var html = new Option<string?>("--html") { Description = "Write the report as one self-contained HTML page (ROC and calibration curves, score distributions by class, score bands, mean |SHAP|, one row's reasons)." };
        var register = new Option<bool>("--register") { Description = "Register the predictor in the store of --data." };
        var activate = new Option<bool>("--activate") { Description = "Register and activate it (a running server picks it up at its next start; or POST the package to /v1/models?activate=true)." };
        var data = CommonOptions.Data();
        var config = CommonOptions.Config();
        var command = new Command("train-model", "Train a tabular model (LightGBM) against the prior and a linear baseline on held-out rows, with intervals; write and register it as a predictor with its fallback.")
        {
            task, dataFile, label, columns, categorical, ignore, weight, positive, costs, decisions, target, reasons, name, fallback, budget, trees, leaves, learningRate, earlyStopping, threads, seed, parameters,
            output, json, html, register, activate, data, config,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = parse.GetValue(dataFile)!;
            if (!File.Exists(path))
            {
                return context.Fail(ExitCodes.NotFound, $"no file {path}");
            }

            if (!TryOptions(parse, path, out var options, out var problem))
            {
                return context.Fail(ExitCodes.BadInput, problem!);
            }

            var read = new TabularReadOptions
            {
                Label = parse.GetValue(label)!,
                ColumnNames = List(parse.GetValue(columns)),
                Categorical = List(parse.GetValue(categorical)) ?? [],
                Ignore = List(parse.GetValue(ignore)) ?? [],
                Weight = parse.GetValue(weight),
            };
            TabularTrainingReport report;
            try
            {
                var table = TabularData.Read(path, read);
                report = await TrainWithProgressAsync(context, table, options!, cancellationToken);
            }
            catch (Exception e) when (e is TabularDataException or PredictorPackageException)
            {
                return context.Fail(ExitCodes.BadInput, e.Message);
            }
            catch (LightGbmException e)
            {
                return context.Fail(ExitCodes.Failure, $"LightGBM: {e.Message}");
            }

            TrainModelOutput.Print(context, report, path);
            var content = report.Package.ToBytes();
            if (parse.GetValue(output) is { } outPath)
            {
                await File.WriteAllBytesAsync(outPath, content, cancellationToken);
                context.Error.WriteLine($"wrote {outPath} ({report.BestIteration} trees, {content.Length:N0} bytes)");
            }

            if (parse.GetValue(json) is { } jsonPath)
            {
                await context.WriteJsonAsync(jsonPath, TrainModelOutput.ComparisonJson(report), cancellationToken);
            }

            if (parse.GetValue(html) is { } htmlPath)
            {
                await File.WriteAllTextAsync(htmlPath, Charts.PredictionReports.Training(report, path, DateTimeOffset.UtcNow), cancellationToken);
                context.Error.WriteLine($"wrote {htmlPath}");
            }

            if (parse.GetValue(register) || parse.GetValue(activate))
            {
                try
                {
                    var settings = LasthopeServer.LoadOptions(CommonOptions.Setup(parse.GetValue(data)!, parse.GetValue(config)));
                    await using var store = await CliStores.OpenAsync(settings, createIfMissing: true, cancellationToken);
                    using var registry = new PredictorRegistry(StoreSelection.ModelStoreOf(store), TimeProvider.System, NullLogger<PredictorRegistry>.Instance);
                    var record = await registry.RegisterAsync(content, new ModelMetadata(Parameters: TrainModelOutput.ParametersJson(report), Metrics: TrainModelOutput.ComparisonJson(report)), parse.GetValue(activate), cancellationToken);
                    context.Out.WriteLine($"registered {record.Version} as predictor {record.Surface}{(parse.GetValue(activate) ? " (active)" : "")}");
                }
                catch (Exception e) when (e is ModelRejectedException or StoreUnavailableException)
                {
                    return context.Fail(ExitCodes.Failure, e.Message);
                }
            }

            return ExitCodes.Ok;
        });
        return command;

        bool TryOptions(ParseResult parse, string path, out TabularTrainingOptions? options, out string? problem)
        {
            options = null;
            problem = null;
            PredictionTask? kind = parse.GetValue(task) switch
            {
                "binary" => PredictionTask.Binary,
                "regression" => PredictionTask.Regression,
                "multiclass" => PredictionTask.Multiclass,
                _ => null,
            };
            var predictorName = parse.GetValue(name) ?? Path.GetFileNameWithoutExtension(path).ToLowerInvariant();
            (double, double)? costMatrix = null;
            if (parse.GetValue(costs) is { } text)
            {
                var parts = text.Split(',');
                if (parts.Length != 2 || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var fp) || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var fn)
                    || !(fp > 0 && fn > 0 && double.IsFinite(fp) && double.IsFinite(fn)))
                {
                    problem = "--cost-matrix must be FP,FN: two positive numbers (UCI's German credit: 1,5).";
                    return false;
                }

                costMatrix = (fp, fn);
            }

            var decisionNames = List(parse.GetValue(decisions));
            problem = kind is null ? "--task must be binary, regression or multiclass."
                : Ids.Problem(predictorName) is { } bad ? $"--name: {bad}"
                : decisionNames is { Count: not 2 } ? "--decisions must be POSITIVE,NEGATIVE (two names)."
                : costMatrix is not null && kind != PredictionTask.Binary ? "--cost-matrix is for a binary task."
                : parse.GetValue(fallback) is not ("scorecard" or "constant") ? "--fallback must be scorecard or constant."
                : parse.GetValue(budget) is < 1 or > 60_000 ? "--budget-ms must be 1 to 60000."
                : parse.GetValue(trees) is < 1 or > 100_000 ? "--trees must be 1 to 100000."
                : parse.GetValue(leaves) is < 2 or > 4096 ? "--leaves must be 2 to 4096."
                : !(parse.GetValue(learningRate) is > 0 and <= 1) ? "--learning-rate must be in (0, 1]."
                : parse.GetValue(threads) is < 1 or > 256 ? "--threads must be 1 to 256."
                : parse.GetValue(earlyStopping) is < 0 or > 10_000 ? "--early-stopping-rounds must be 0 to 10000."
                : null;
            if (problem is not null)
            {
                return false;
            }

            var extra = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in parse.GetValue(parameters) ?? [])
            {
                var pair = p.Split('=', 2);
                if (pair.Length != 2 || pair[0].Trim().Length == 0 || pair.Any(v => v.Contains(' ', StringComparison.Ordinal)))
                {
                    problem = $"--param {p} is not name=value.";
                    return false;
                }

                extra[pair[0].Trim()] = pair[1].Trim();
            }

            IReadOnlyDictionary<string, ReasonTemplate> phrases = new Dictionary<string, ReasonTemplate>();
            if (parse.GetValue(reasons) is { } reasonsPath)
            {
                try
                {
                    phrases = JsonSerializer.Deserialize(File.ReadAllText(reasonsPath), ReportJson.Default.DictionaryStringReasonTemplate) ?? [];
                }
                catch (Exception e) when (e is JsonException or IOException)
                {
                    problem = $"--reasons: {e.Message}";
                    return false;
                }
            }

            options = new TabularTrainingOptions
            {
                Task = kind!.Value,
                Name = predictorName,
                Positive = parse.GetValue(positive),
                Costs = costMatrix,
                PositiveDecision = decisionNames?[0] ?? "positive",
                NegativeDecision = decisionNames?[1] ?? "negative",
                Target = parse.GetValue(target)!,
                Reasons = phrases,
                Fallback = parse.GetValue(fallback)!,
                BudgetMs = parse.GetValue(budget),
                Trees = parse.GetValue(trees),
                Leaves = parse.GetValue(leaves),
                LearningRate = parse.GetValue(learningRate),
                EarlyStoppingRounds = parse.GetValue(earlyStopping),
                Parameters = extra,
                Threads = parse.GetValue(threads),
                Seed = parse.GetValue(seed),
            };
            return true;
        }
    }

    private static List<string>? List(string? text) => text is null ? null : [.. text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];

    private static async Task<TabularTrainingReport> TrainWithProgressAsync(CliContext context, TabularData table, TabularTrainingOptions options, CancellationToken cancellationToken)
    {
        TabularTrainingReport report = null!;
        await context.Console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async progress =>
            {
                var bar = progress.AddTask($"Training on {table.Rows:N0} rows", maxValue: 1);
                report = await Task.Run(() => TabularTraining.Train(table, options, new Progress<double>(p => bar.Value = p), cancellationToken), cancellationToken);
                bar.Value = 1;
            });
        return report;
    }
}
