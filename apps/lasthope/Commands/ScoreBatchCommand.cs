using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using Lasthope.Core.Storage;
using Lasthope.Server.Hosting;
using Lasthope.Server.Models;
using Lasthope.Server.Predict;
using Lasthope.Training.Tabular;
using Microsoft.Extensions.Logging.Abstractions;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary>
/// <c>lasthope score-batch</c>: scores a CSV file with a predictor (a package file, or a version or active predictor
/// of the store) and writes scores, decisions and reasons, with a manifest beside the output that names the model
/// version and the input's fingerprint: what replaces the hand-copied CSV of predictions.
/// </summary>
internal static class ScoreBatchCommand
{
    /// <summary>The rows a report draws (the first of the file).</summary>
    public const int ReportRows = 100_000;

    public static Command Create(CliContext context)
    {
        var model = new Option<string>("--model", "-m") { Description = "A predictor package file, or a registered version, or the name of an active predictor in the store of --data.", Required = true };
        var input = new Option<string>("--input", "-i") { Description = "The CSV to score (a header row naming every input of the predictor).", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "The CSV to write; OUTPUT.manifest.json is written beside it.", Required = true };
        var explain = new Option<int>("--explain") { Description = "Reasons per row: the top N features by exact TreeSHAP (0 to 20).", DefaultValueFactory = _ => 0 };
        var passThrough = new Option<string?>("--pass-through") { Description = "Comma-separated input columns copied to the output, first and under their own names (an id); a column named as an output column (score, decision, p_CLASS, reason_K, contribution_K) is refused (exit 2): rename it in the input." };
        var html = new Option<string?>("--html") { Description = "Write a report (score distribution and bands, mean |SHAP|, one row's reasons; with --label, ROC and calibration too) as one self-contained HTML page." };
        var label = new Option<string?>("--label") { Description = "With --html: a column of known outcomes to measure the scores against (binary: the positive class's value is a positive, every other value a negative, as train-model --positive counts them; an empty or NA cell is left out)." };
        var data = CommonOptions.Data();
        var config = CommonOptions.Config();
        var command = new Command("score-batch", "Score a CSV file with a predictor: scores, decisions, reasons, and a manifest with the model version and the input's fingerprint.")
        {
            model, input, output, explain, passThrough, html, label, data, config,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var inputPath = parse.GetValue(input)!;
            var outputPath = parse.GetValue(output)!;
            var reasons = parse.GetValue(explain);
            if (reasons is < 0 or > 20)
            {
                return context.Fail(ExitCodes.BadInput, "--explain must be 0 to 20.");
            }

            if (!File.Exists(inputPath))
            {
                return context.Fail(ExitCodes.NotFound, $"no file {inputPath}");
            }

            if (Path.GetFullPath(inputPath) == Path.GetFullPath(outputPath))
            {
                return context.Fail(ExitCodes.BadInput, "--output must not be the input.");
            }

            Predictor? predictor;
            try
            {
                predictor = await ResolveAsync(parse.GetValue(model)!, parse.GetValue(data)!, parse.GetValue(config), cancellationToken);
            }
            catch (Exception e) when (e is PredictorPackageException or ModelRejectedException)
            {
                return context.Fail(ExitCodes.BadInput, e.Message);
            }
            catch (StoreNotFoundException e)
            {
                return context.Fail(ExitCodes.NotFound, e.Message);
            }

            if (predictor is null)
            {
                return context.Fail(ExitCodes.NotFound, $"no predictor file, version or active predictor '{parse.GetValue(model)}'");
            }

            var pass = parse.GetValue(passThrough)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [];
            BatchManifest manifest;
            BatchSample? sample = null;
            var htmlPath = parse.GetValue(html);
            try
            {
                manifest = null!;
                await context.Console.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                    .StartAsync(async progress =>
                    {
                        var bar = progress.AddTask($"Scoring with {predictor.Version}", maxValue: 1);
                        (manifest, sample) = await Task.Run(
                            () => BatchScorer.Score(predictor, inputPath, outputPath, reasons, pass, htmlPath is null ? 0 : ReportRows, parse.GetValue(label), new Progress<double>(p => bar.Value = p), cancellationToken),
                            cancellationToken);
                        bar.Value = 1;
                    });
            }
            catch (BatchInputException e)
            {
                return context.Fail(ExitCodes.BadInput, e.Message);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return context.Fail(ExitCodes.Failure, e.Message);
            }

            if (htmlPath is not null && sample is not null)
            {
                await File.WriteAllTextAsync(htmlPath, Charts.PredictionReports.Batch(predictor, manifest, sample, DateTimeOffset.UtcNow), cancellationToken);
                context.Error.WriteLine($"wrote {htmlPath}");
            }

            var manifestPath = outputPath + ".manifest.json";
            await File.WriteAllTextAsync(manifestPath, BatchScorer.ManifestJson(manifest) + "\n", cancellationToken);
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"scored {manifest.Rows:N0} rows with {manifest.Predictor} {manifest.Version} in {manifest.Seconds:F2} s ({manifest.RowsPerSecond:N0} rows/s); wrote {outputPath} and {manifestPath}"));
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>A package file; else a version in the store; else the active predictor of that name.</summary>
    internal static async Task<Predictor?> ResolveAsync(string model, string data, string? config, CancellationToken cancellationToken)
    {
        if (File.Exists(model))
        {
            var content = await File.ReadAllBytesAsync(model, cancellationToken);
            return Predictor.Load(PredictorPackage.Parse(content), "file-sha256:" + Convert.ToHexStringLower(SHA256.HashData(content))[..16]);
        }

        var options = LasthopeServer.LoadOptions(CommonOptions.Setup(data, config));
        await using var store = await CliStores.OpenAsync(options, cancellationToken);
        using var registry = new PredictorRegistry(StoreSelection.ModelStoreOf(store), TimeProvider.System, NullLogger<PredictorRegistry>.Instance);
        if (await registry.GetAsync(model, cancellationToken) is { } version)
        {
            return version;
        }

        await registry.LoadActiveAsync(cancellationToken);
        return registry.Active(model);
    }
}
