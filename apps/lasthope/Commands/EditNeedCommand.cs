using System.CommandLine;
using Lasthope.Text;
using Lasthope.Text.EditNeed;
using Lasthope.Text.Encoder;
using Lasthope.Training.Text;
using Lasthope.Trees.Native;

namespace Lasthope.Cli.Commands;

/// <summary>
/// <c>lasthope train-edit-need</c>: edit need on IteraTeR's revisions (the word-level edit rate of each sentence or
/// paragraph), the baselines and the trees measured on held-out documents with document-clustered intervals; writes
/// the served model. The work is <see cref="EditNeedTraining"/>'s.
/// </summary>
internal static class EditNeedCommand
{
    public static Command Create(CliContext context)
    {
        var data = new Option<string>("--data") { Description = "The folder of IteraTeR's human_doc_level.{train,dev,test}.json.", Required = true };
        var level = new Option<string>("--level") { Description = "sentence (highlights within each text) or paragraph.", DefaultValueFactory = _ => "sentence" };
        var encoder = new Option<string>("--encoder") { Description = "int8 or float32 (all-MiniLM-L6-v2, in the package; int8 quantised at load, as serving uses by default) or none (text features only).", DefaultValueFactory = _ => "int8" };
        var output = new Option<string?>("--out", "-o") { Description = "Where to write the model (lasthope-edit-need/1 JSON)." };
        var json = new Option<string?>("--json") { Description = "Write the evaluation as JSON (- for standard output)." };
        var html = new Option<string?>("--html") { Description = "Write the evaluation as one self-contained HTML page (charts of both metrics with intervals, the tables, the verdicts)." };
        var seed = new Option<int>("--seed") { Description = "Seed of the document split, the trees, the random baseline and the bootstrap.", DefaultValueFactory = _ => 42 };
        var resamples = new Option<int>("--resamples") { Description = "Bootstrap resamples of documents.", DefaultValueFactory = _ => 1000 };
        var threads = new Option<int>("--threads") { Description = "LightGBM's threads.", DefaultValueFactory = _ => 2 };
        var command = new Command("train-edit-need", "Train edit need (the word-level edit rate of each sentence or paragraph) on IteraTeR revisions; compare with the length, out-of-vocabulary and random baselines on held-out documents.")
        {
            data, level, encoder, output, json, html, seed, resamples, threads,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var directory = parse.GetValue(data)!;
            if (!Directory.Exists(directory))
            {
                return context.Fail(ExitCodes.NotFound, $"no folder {directory}");
            }

            EditNeedLevel? unit = parse.GetValue(level) switch { "sentence" => EditNeedLevel.Sentence, "paragraph" => EditNeedLevel.Paragraph, _ => null };
            var problem = unit is null ? "--level must be sentence or paragraph."
                : parse.GetValue(encoder) != "none" && MiniLmEncoder.ParsePrecision(parse.GetValue(encoder)) is null ? "--encoder must be int8, float32 or none."
                : parse.GetValue(resamples) is < 10 or > 100_000 ? "--resamples must be 10 to 100000."
                : parse.GetValue(threads) is < 1 or > 256 ? "--threads must be 1 to 256."
                : null;
            if (problem is not null)
            {
                return context.Fail(ExitCodes.BadInput, problem);
            }

            var options = new EditNeedTrainingOptions { Level = unit!.Value, Seed = parse.GetValue(seed), Resamples = parse.GetValue(resamples) };
            EditNeedTrainingReport report;
            try
            {
                var documents = EditNeedData.Load(directory, options.Level);
                using var miniLm = MiniLmEncoder.ParsePrecision(parse.GetValue(encoder)) is { } precision ? new MiniLmEncoder(precision, Math.Max(1, parse.GetValue(threads))) : null;
                report = await Task.Run(() => EditNeedTraining.Run(documents, options, new EditNeedLightGbm(parse.GetValue(threads)), miniLm, message => context.Error.WriteLine(message), cancellationToken), cancellationToken);
            }
            catch (EditNeedDataException e)
            {
                return context.Fail(ExitCodes.BadInput, e.Message);
            }
            catch (ArgumentException e)
            {
                return context.Fail(ExitCodes.BadInput, CliContext.MessageOf(e));
            }
            catch (LightGbmException e)
            {
                return context.Fail(ExitCodes.Failure, $"LightGBM: {e.Message}");
            }

            EditNeedOutput.Print(context, report);
            if (parse.GetValue(output) is { } outPath)
            {
                var content = report.Model.ToBytes();
                await File.WriteAllBytesAsync(outPath, content, cancellationToken);
                context.Error.WriteLine($"wrote {outPath} ({content.Length:N0} bytes)");
            }

            if (parse.GetValue(json) is { } jsonPath)
            {
                await context.WriteJsonAsync(jsonPath, EditNeedOutput.Json(report), cancellationToken);
            }

            if (parse.GetValue(html) is { } htmlPath)
            {
                await File.WriteAllTextAsync(htmlPath, Charts.EditNeedHtml.Render(report, string.Join(' ', ["lasthope", .. parse.Tokens.Select(t => t.Value)]), DateTimeOffset.UtcNow), cancellationToken);
                context.Error.WriteLine($"wrote {htmlPath}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The encoder a model names, when the CLI has it: MiniLM, else none (the model then uses its text features).</summary>
    internal static MiniLmEncoder? EncoderFor(string? name) => MiniLmEncoder.PrecisionOf(name) is { } precision ? new MiniLmEncoder(precision) : null;
}
