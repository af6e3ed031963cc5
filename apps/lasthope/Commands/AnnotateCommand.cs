using System.CommandLine;
using System.Globalization;
using Lasthope.Evaluation;
using Lasthope.Text.EditNeed;

namespace Lasthope.Cli.Commands;

/// <summary>
/// <c>lasthope annotate sample|score</c>: the annotation protocol of edit need (<see cref="EditNeedAnnotation"/>): a
/// blinded file mixing the model's highlights with random units, then the labels read back into each arm's precision
/// with Wilson intervals.
/// </summary>
internal static class AnnotateCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("annotate", "Measure edit-need highlights by hand: write a blinded sample (model highlights and random units), then score the labels.");
        command.Add(Sample(context));
        command.Add(Score(context));
        return command;
    }

    private static Command Sample(CliContext context)
    {
        var model = new Option<string>("--model") { Description = "An edit-need model (train-edit-need --out).", Required = true };
        var input = new Option<string>("--input") { Description = "Documents: plain text separated by lines of ---, or JSON Lines with a text (or before_revision) field.", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "The blinded CSV to write (id, text, label); the key is written beside it as NAME.key.json.", Required = true };
        var count = new Option<int>("--count") { Description = "Rows to sample: half from the highlights, half at random.", DefaultValueFactory = _ => 100 };
        var seed = new Option<int>("--seed") { Description = "Seed of the draw and the shuffle.", DefaultValueFactory = _ => 42 };
        var command = new Command("sample", "Write a blinded file mixing the model's highlights with random units, with an empty label column, and its hidden key.") { model, input, output, count, seed };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var modelPath = parse.GetValue(model)!;
            var inputPath = parse.GetValue(input)!;
            var outPath = parse.GetValue(output)!;
            if (parse.GetValue(count) is < 2 or > EditNeedAnnotation.MaxRows)
            {
                return context.Fail(ExitCodes.BadInput, $"--count must be 2 to {EditNeedAnnotation.MaxRows}.");
            }

            foreach (var path in new[] { modelPath, inputPath })
            {
                if (!File.Exists(path))
                {
                    return context.Fail(ExitCodes.NotFound, $"no file {path}");
                }
            }

            try
            {
                var bytes = await File.ReadAllBytesAsync(modelPath, cancellationToken);
                var name = EditNeedModel.Load(bytes, null).EncoderName;
                using var encoder = EditNeedCommand.EncoderFor(name);
                var edit = EditNeedModel.Load(bytes, encoder);
                if (edit.Note is { } note)
                {
                    context.Error.WriteLine(note);
                }

                var documents = EditNeedAnnotation.ReadDocuments(inputPath);
                var (rows, key) = EditNeedAnnotation.Sample(edit, documents, parse.GetValue(count), parse.GetValue(seed), cancellationToken);
                var keyPath = KeyPath(outPath);
                EditNeedAnnotation.WriteBlinded(outPath, rows);
                EditNeedAnnotation.WriteKey(keyPath, key);
                context.Out.WriteLine($"wrote {outPath} ({rows.Count} rows to label) and {keyPath} (the key: keep it from the annotator)");
                context.Error.WriteLine($"{key.Documents} documents, {key.Units} units, {key.Highlighted} highlighted; {key.Rows.Count(r => r.Arms.Contains(EditNeedAnnotation.ModelArm))} rows from the highlights, "
                    + $"{key.Rows.Count(r => r.Arms.Contains(EditNeedAnnotation.RandomArm))} at random ({key.Rows.Count(r => r.Arms.Count == 2)} in both)");
                return ExitCodes.Ok;
            }
            catch (EditNeedModelException e)
            {
                return context.Fail(ExitCodes.BadInput, $"{Path.GetFileName(modelPath)}: {e.Message}");
            }
            catch (AnnotationException e)
            {
                return context.Fail(ExitCodes.BadInput, e.Message);
            }
            catch (ArgumentException e)
            {
                return context.Fail(ExitCodes.BadInput, CliContext.MessageOf(e));
            }
        });
        return command;
    }

    private static Command Score(CliContext context)
    {
        var file = new Option<string>("--file") { Description = "The blinded CSV with its label column filled (1/0 or yes/no; empty for not labelled).", Required = true };
        var key = new Option<string?>("--key") { Description = "The key written by annotate sample (default: FILE's NAME.key.json)." };
        var json = new Option<string?>("--json") { Description = "Write the scores as JSON (- for standard output)." };
        var command = new Command("score", "Read the labels back: the precision of the model's highlights against random units, with Wilson intervals, and their difference.") { file, key, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = parse.GetValue(file)!;
            var keyPath = parse.GetValue(key) ?? KeyPath(path);
            foreach (var p in new[] { path, keyPath })
            {
                if (!File.Exists(p))
                {
                    return context.Fail(ExitCodes.NotFound, $"no file {p}");
                }
            }

            AnnotationScore score;
            try
            {
                score = EditNeedAnnotation.Score(EditNeedAnnotation.ReadLabels(path), EditNeedAnnotation.ReadKey(keyPath));
            }
            catch (AnnotationException e)
            {
                return context.Fail(ExitCodes.BadInput, e.Message);
            }

            foreach (var arm in new[] { score.Model, score.Random })
            {
                context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{arm.Name,-7} {arm.NeedsEditing} of {arm.Labelled} need editing: {Percent(arm.Precision)} (Wilson 95%)"));
            }

            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"model - random: {Points(score.Difference.Estimate)} points [{Points(score.Difference.Lower)}, {Points(score.Difference.Upper)}] (Newcombe 95%)"));
            if (score.Unlabelled > 0)
            {
                context.Error.WriteLine($"{score.Unlabelled} rows have no label and are left out");
            }

            context.Out.WriteLine(score.Verdict);
            if (parse.GetValue(json) is { } jsonPath)
            {
                await context.WriteJsonAsync(jsonPath, System.Text.Json.JsonSerializer.Serialize(score, EditNeedCliJson.Default.AnnotationScore), cancellationToken);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>blinded.csv → blinded.key.json, beside it.</summary>
    internal static string KeyPath(string blinded) => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(blinded))!, Path.GetFileNameWithoutExtension(blinded) + ".key.json");

    private static string Percent(Interval v) => double.IsNaN(v.Estimate) ? "no labels"
        : string.Create(CultureInfo.InvariantCulture, $"{v.Estimate:P0} [{v.Lower:P0}, {v.Upper:P0}]").Replace(" %", "%", StringComparison.Ordinal);

    private static string Points(double d) => double.IsNaN(d) ? "n/a" : (d * 100).ToString("+0.0;-0.0;+0.0", CultureInfo.InvariantCulture);
}
