using System.CommandLine;
using Lasthope.Core.Identifiers;
using Lasthope.Text;
using Lasthope.Text.Encoder;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary>
/// <c>lasthope train-text</c>: a text classifier or regressor, the TF-IDF baseline and the MiniLM encoder with a
/// linear head trained on the same split and compared on held-out texts with intervals, the encoder's cost per text
/// measured; writes the <c>lasthope-text/1</c> package, a JSON summary and an HTML report.
/// </summary>
internal static class TrainTextCommand
{
    public static Command Create(CliContext context)
    {
        var task = new Option<string>("--task") { Description = "classify or regress.", Required = true };
        var dataFile = new Option<string>("--data") { Description = "The labelled texts (CSV with a header row).", Required = true };
        var text = new Option<string>("--text") { Description = "The text's column.", Required = true };
        var label = new Option<string>("--label") { Description = "The label's column (a class name, or a number to regress).", Required = true };
        var testFile = new Option<string?>("--test") { Description = "The data set's own test file (same columns); without it 20% of --data is held out, stratified by class." };
        var name = new Option<string?>("--name") { Description = "The model's name (POST /v1/text/NAME); default the file's name." };
        var output = new Option<string?>("--out", "-o") { Description = "Where to write the model package (lasthope-text/1 JSON)." };
        var html = new Option<string?>("--html") { Description = "Write the report as one self-contained HTML page (metrics with intervals, confusion matrix, per-class precision and recall)." };
        var json = new Option<string?>("--json") { Description = "Write the comparison as JSON ('-' for standard output)." };
        var maxRows = new Option<int>("--max-rows") { Description = "Read at most this many usable rows of each file (the first ones).", DefaultValueFactory = _ => 1_000_000 };
        var maxLength = new Option<int>("--max-text-length") { Description = "Cut longer texts to this many characters.", DefaultValueFactory = _ => 2_000 };
        var seed = new Option<int>("--seed") { Description = "Seed of the split, the trainers and the bootstrap.", DefaultValueFactory = _ => 42 };
        var labelMap = new Option<string?>("--label-map") { Description = "A CSV of label,class pairs: each label becomes its class (for example 0,bearish)." };
        var groupIssues = new Option<bool>("--group-issues") { Description = "Map CFPB issues to their broad groups (billing, service, account_closure, ...; Lasthope.Text.ComplaintIssueGroups)." };
        var noEncoder = new Option<bool>("--no-encoder") { Description = "Train the TF-IDF baseline only (against the prior)." };
        var encoderPrecision = new Option<string>("--encoder") { Description = "The encoder's precision: int8 (its weight matrices quantised at load, what serving uses by default) or float32.", DefaultValueFactory = _ => "int8" };
        var threads = new Option<int>("--threads") { Description = "The encoder's threads per call while training (serving uses 1).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var budget = new Option<int>("--budget-ms") { Description = "The encoder's budget per request in the package (15 ms leaves the baseline room to answer a late request within 20 ms).", DefaultValueFactory = _ => 15 };
        var command = new Command("train-text", "Train a text model (TF-IDF baseline and MiniLM encoder with a linear head) on the same split, compare them on held-out texts with intervals, and write the package.")
        {
            task, dataFile, text, label, testFile, name, output, html, json, maxRows, maxLength, seed, labelMap, groupIssues, noEncoder, encoderPrecision, threads, budget,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = parse.GetValue(dataFile)!;
            var test = parse.GetValue(testFile);
            foreach (var file in new[] { path, test, parse.GetValue(labelMap) })
            {
                if (file is not null && !File.Exists(file))
                {
                    return context.Fail(ExitCodes.NotFound, $"no file {file}");
                }
            }

            TextTask? kind = parse.GetValue(task) switch { "classify" => TextTask.Classify, "regress" => TextTask.Regress, _ => null };
            var modelName = parse.GetValue(name) ?? Path.GetFileNameWithoutExtension(path).ToLowerInvariant();
            var problem = kind is null ? "--task must be classify or regress."
                : Ids.Problem(modelName) is { } bad ? $"--name {bad}"
                : parse.GetValue(labelMap) is not null && parse.GetValue(groupIssues) ? "--label-map and --group-issues cannot be used together."
                : kind == TextTask.Regress && (parse.GetValue(labelMap) is not null || parse.GetValue(groupIssues)) ? "--label-map and --group-issues are for --task classify."
                : parse.GetValue(maxRows) < 10 ? "--max-rows must be at least 10."
                : parse.GetValue(maxLength) is < 16 or > 100_000 ? "--max-text-length must be 16 to 100000."
                : MiniLmEncoder.ParsePrecision(parse.GetValue(encoderPrecision)) is null ? "--encoder must be int8 or float32."
                : parse.GetValue(threads) is < 1 or > 256 ? "--threads must be 1 to 256."
                : parse.GetValue(budget) is < 1 or > 60_000 ? "--budget-ms must be 1 to 60000."
                : null;
            if (problem is not null)
            {
                return context.Fail(ExitCodes.BadInput, problem);
            }

            TextTrainingReport report;
            try
            {
                var read = new TextReadOptions
                {
                    Text = parse.GetValue(text)!,
                    Label = parse.GetValue(label)!,
                    Task = kind!.Value,
                    MaxRows = parse.GetValue(maxRows),
                    MaxTextLength = parse.GetValue(maxLength),
                    LabelMap = parse.GetValue(groupIssues) ? ComplaintIssueGroups.Table : parse.GetValue(labelMap) is { } mapPath ? TextData.ReadLabelMap(mapPath) : null,
                    UnmappedLabel = parse.GetValue(groupIssues) ? ComplaintIssueGroups.Other : null,
                };
                var data = TextData.Read(path, read);
                var held = test is null ? null : TextData.Read(test, read);
                var options = new TextTrainingOptions { Task = kind.Value, Name = modelName, Seed = parse.GetValue(seed), BudgetMs = parse.GetValue(budget) };
                report = await TrainWithProgressAsync(context, data, held, parse.GetValue(noEncoder) ? null : (MiniLmEncoder.ParsePrecision(parse.GetValue(encoderPrecision))!.Value, parse.GetValue(threads)), options, cancellationToken);
            }
            catch (TextDataException e)
            {
                return context.Fail(ExitCodes.BadInput, e.Message);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                return context.Fail(ExitCodes.Failure, $"training failed: {e.Message}");
            }

            var command = string.Join(' ', ["lasthope", .. parse.Tokens.Select(t => t.Value.Contains(' ', StringComparison.Ordinal) ? $"'{t.Value}'" : t.Value)]);
            TrainTextOutput.Print(context, report, path);
            if (parse.GetValue(output) is { } outPath)
            {
                var content = report.Model.ToBytes();
                await File.WriteAllBytesAsync(outPath, content, cancellationToken);
                context.Error.WriteLine($"wrote {outPath} ({content.Length:N0} bytes)");
            }

            if (parse.GetValue(json) is { } jsonPath)
            {
                await context.WriteJsonAsync(jsonPath, TrainTextOutput.Json(report, command), cancellationToken);
            }

            if (parse.GetValue(html) is { } htmlPath)
            {
                await File.WriteAllTextAsync(htmlPath, TrainTextOutput.Html(report, path, command, DateTimeOffset.UtcNow), cancellationToken);
                context.Error.WriteLine($"wrote {htmlPath}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<TextTrainingReport> TrainWithProgressAsync(CliContext context, TextData data, TextData? test, (MiniLmPrecision Precision, int Threads)? encoderSettings, TextTrainingOptions options, CancellationToken cancellationToken)
    {
        TextTrainingReport report = null!;
        await context.Console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async progress =>
            {
                var bars = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                var reporter = new Progress<TextTrainingProgress>(p =>
                {
                    lock (bars)
                    {
                        if (!bars.TryGetValue(p.Stage, out var bar))
                        {
                            bars[p.Stage] = bar = progress.AddTask(p.Stage, maxValue: 1);
                        }

                        bar.Value = Math.Max(bar.Value, p.Fraction);
                    }
                });
                report = await Task.Run(
                    () =>
                    {
                        using var encoder = encoderSettings is { } e ? new MiniLmEncoder(e.Precision, e.Threads) : null;
                        return TextTraining.Train(data, test, encoder, options, reporter, cancellationToken);
                    },
                    cancellationToken);
                lock (bars)
                {
                    foreach (var bar in bars.Values)
                    {
                        bar.Value = 1;
                    }
                }
            });
        return report;
    }
}
