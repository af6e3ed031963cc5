using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Lasthope.Trees;
using Lasthope.Trees.Data;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary>
/// <c>lasthope model inspect FILE</c> and <c>lasthope model score FILE DATA</c>: look inside a LightGBM or XGBoost model,
/// and score a data file with Lasthope's evaluator (the one the ranker serves with).
/// </summary>
internal static class ModelCommands
{
    public static Command Create(CliContext context)
    {
        var model = new Command("model", "Inspect gradient-boosted tree models (LightGBM text, XGBoost JSON) and score data with them.");
        model.Add(CreateInspect(context));
        model.Add(CreateScore(context));
        return model;
    }

    private static Command CreateInspect(CliContext context)
    {
        var file = new Argument<string>("file") { Description = "The model: LightGBM model.txt or XGBoost .json." };
        var top = new Option<int>("--top") { Description = "Features to list in the importance table.", DefaultValueFactory = _ => 20 };
        var json = new Option<bool>("--json") { Description = "Print the summary, with every used feature's importance, as JSON on standard output." };
        var command = new Command("inspect", "Show a model's objective, trees, leaves, depth, features used and feature importance (split count and total gain).");
        command.Add(file);
        command.Add(top);
        command.Add(json);
        command.SetAction((parse, _) =>
        {
            if (!TryLoad(parse.GetValue(file)!, context, out var loaded, out var failure))
            {
                return Task.FromResult(failure);
            }

            var summary = loaded.Summarize();
            if (parse.GetValue(json))
            {
                context.Out.WriteLine(JsonSerializer.Serialize(summary, JsonOptions));
                return Task.FromResult(ExitCodes.Ok);
            }

            var facts = new Grid().AddColumn().AddColumn();
            void Fact(string name, string value) => facts.AddRow(new Markup($"[grey]{name}[/]"), new Spectre.Console.Text(value));
            Fact("format", $"{summary.Format} {summary.FormatVersion}");
            Fact("objective", summary.Objective);
            Fact("boosting", summary.Boosting);
            Fact("output", summary.Classes > 1 ? string.Create(CultureInfo.InvariantCulture, $"{summary.OutputTransform} over {summary.Classes} classes") : summary.OutputTransform.ToString());
            Fact("trees", summary.Trees.ToString("N0", CultureInfo.InvariantCulture));
            Fact("leaves", string.Create(CultureInfo.InvariantCulture, $"{summary.Leaves:N0} ({(double)summary.Leaves / Math.Max(1, summary.Trees):F1} per tree)"));
            Fact("depth", string.Create(CultureInfo.InvariantCulture, $"max {summary.MaxDepth}, mean leaf depth {summary.MeanLeafDepth:F2}"));
            Fact("features", string.Create(CultureInfo.InvariantCulture, $"{summary.FeaturesUsed:N0} used of {summary.Features:N0}"));
            Fact("fingerprint", summary.Fingerprint);
            context.Console.Write(facts);

            var table = new Table().Border(TableBorder.Simple).Title("feature importance")
                .AddColumn("feature").AddColumn(new TableColumn("splits").RightAligned()).AddColumn(new TableColumn("gain").RightAligned()).AddColumn(new TableColumn("gain %").RightAligned());
            var totalGain = summary.Importance.Sum(i => i.Gain);
            foreach (var i in summary.Importance.Take(Math.Max(0, parse.GetValue(top))))
            {
                table.AddRow(
                    Markup.Escape($"{i.Name} (#{i.Feature})"),
                    i.Splits.ToString(CultureInfo.InvariantCulture),
                    i.Gain.ToString("G6", CultureInfo.InvariantCulture),
                    (totalGain > 0 ? 100 * i.Gain / totalGain : 0).ToString("F1", CultureInfo.InvariantCulture));
            }

            context.Console.Write(table);
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    private static Command CreateScore(CliContext context)
    {
        var file = new Argument<string>("file") { Description = "The model: LightGBM model.txt or XGBoost .json." };
        var data = new Argument<string>("data") { Description = "LibSVM (label index:value ...) or CSV of feature values in the model's order (a header naming the model's features maps columns by name)." };
        var format = new Option<string?>("--format") { Description = "libsvm or csv; by default .csv files are CSV and anything else LibSVM." };
        format.AcceptOnlyFromAmong("libsvm", "csv");
        var transform = new Option<bool>("--transform") { Description = "Print the objective's prediction (a probability for binary and multiclass models) instead of the raw score." };
        var command = new Command("score", "Score every row of a data file; prints one score per line (one per class, tab-separated, for a multiclass model), in input order (raw scores unless --transform).");
        command.Add(file);
        command.Add(data);
        command.Add(format);
        command.Add(transform);
        command.SetAction((parse, cancellationToken) =>
        {
            if (!TryLoad(parse.GetValue(file)!, context, out var loaded, out var failure))
            {
                return Task.FromResult(failure);
            }

            var dataPath = parse.GetValue(data)!;
            if (!File.Exists(dataPath))
            {
                return Task.FromResult(context.Fail(ExitCodes.NotFound, $"no data file {dataPath}"));
            }

            DenseDataset rows;
            try
            {
                var csv = parse.GetValue(format) is { } f ? f == "csv" : dataPath.EndsWith(".csv", StringComparison.OrdinalIgnoreCase);
                rows = csv ? DenseDataset.ReadCsv(dataPath, loaded.FeatureNames) : DenseDataset.ReadLibSvm(dataPath, loaded.FeatureCount);
            }
            catch (FormatException e)
            {
                return Task.FromResult(context.Fail(ExitCodes.BadInput, e.Message));
            }

            // A multiclass model writes one raw score (or probability) per class, tab-separated.
            var classes = loaded.ClassCount;
            var scores = new double[rows.Rows * classes];
            if (loaded.ScoreClasses(rows.Features, scores, cancellationToken) < rows.Rows)
            {
                return Task.FromResult(context.Fail(ExitCodes.Cancelled, "scoring was cancelled."));
            }

            if (parse.GetValue(transform))
            {
                loaded.Transform(scores);
            }

            for (var r = 0; r < rows.Rows; r++)
            {
                context.Out.WriteLine(string.Join('\t', scores.AsSpan(r * classes, classes).ToArray().Select(s => s.ToString("R", CultureInfo.InvariantCulture))));
            }

            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    internal static bool TryLoad(string path, CliContext context, out TreeModel model, out int failure)
    {
        model = null!;
        failure = ExitCodes.Ok;
        if (!File.Exists(path))
        {
            failure = context.Fail(ExitCodes.NotFound, $"no model file {path}");
            return false;
        }

        try
        {
            model = TreeModel.Load(path);
            return true;
        }
        catch (ModelLoadException e)
        {
            failure = context.Fail(ExitCodes.BadInput, $"{path}: {e.Message}");
            return false;
        }
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };
}
