using System.CommandLine;
using System.Globalization;
using Lasthope.Text;
using Lasthope.Text.Barometer;
using Lasthope.Text.Encoder;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary>
/// <c>lasthope barometer</c>: labels a dated CSV of texts with a sentiment text model and draws the barometer, per day,
/// week or month the share of positive minus negative texts with its bootstrap interval, its count and a smoothed line
/// (<see cref="SentimentBarometer"/>), as an HTML page and a JSON document.
/// </summary>
internal static class BarometerCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Option<string>("--model", "-m") { Description = "A text model package file (lasthope train-text --out) whose classes name a sentiment (bullish/bearish/neutral, positive/negative/neutral).", Required = true };
        var input = new Option<string>("--input", "-i") { Description = "The dated CSV of texts.", Required = true };
        var text = new Option<string>("--text") { Description = "The text column.", Required = true };
        var date = new Option<string>("--date") { Description = "The date column (yyyy-MM-dd, yyyy/M/d or yyyy-M-d).", Required = true };
        var period = new Option<string>("--period") { Description = "day, week (ISO, from Monday) or month.", DefaultValueFactory = _ => "week" };
        var smoothing = new Option<int>("--smoothing") { Description = "The smoothed line pools the texts of this many trailing periods.", DefaultValueFactory = _ => 4 };
        var expected = new Option<bool>("--expected") { Description = "Count each text as P(positive) - P(negative) instead of by its most likely class." };
        var family = new Option<string>("--family") { Description = "encoder (the sentence encoder's head, when the package has one) or baseline (TF-IDF).", DefaultValueFactory = _ => "encoder" };
        var html = new Option<string?>("--html") { Description = "Write the barometer as one self-contained HTML page." };
        var json = new Option<string?>("--json") { Description = "Write the barometer's points as JSON." };
        var seed = new Option<int>("--seed") { Description = "The bootstrap's seed.", DefaultValueFactory = _ => 42 };
        var command = new Command("barometer", "Label dated texts with a sentiment model and draw the barometer: positive minus negative share per period, with intervals and counts.")
        {
            model, input, text, date, period, smoothing, expected, family, html, json, seed,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!Enum.TryParse<BarometerPeriod>(parse.GetValue(period), ignoreCase: true, out var every) || !Enum.IsDefined(every))
            {
                return context.Fail(ExitCodes.BadInput, "--period must be day, week or month.");
            }

            if (parse.GetValue(smoothing) is < 1 or > 366 || parse.GetValue(family) is not ("encoder" or "baseline"))
            {
                return context.Fail(ExitCodes.BadInput, "--smoothing must be 1 to 366 and --family encoder or baseline.");
            }

            foreach (var path in new[] { parse.GetValue(model)!, parse.GetValue(input)! })
            {
                if (!File.Exists(path))
                {
                    return context.Fail(ExitCodes.NotFound, $"no file {path}");
                }
            }

            byte[] package;
            TextModel textModel;
            DatedTexts texts;
            try
            {
                package = await File.ReadAllBytesAsync(parse.GetValue(model)!, cancellationToken);
                textModel = TextModel.Load(package, null);
                texts = DatedTextCsv.Read(parse.GetValue(input)!, new DatedTextCsvOptions { TextColumn = parse.GetValue(text)!, DateColumn = parse.GetValue(date)! });
            }
            catch (Exception e) when (e is TextModelException or BarometerInputException)
            {
                return context.Fail(ExitCodes.BadInput, e.Message);
            }

            // The package names the encoder its head was trained on (int8 or float32); that one is loaded.
            using var encoder = parse.GetValue(family) == "encoder" && MiniLmEncoder.PrecisionOf(textModel.EncoderName) is { } precision ? new LazyMiniLmEncoder(precision) : null;
            if (encoder is not null)
            {
                textModel = TextModel.Load(package, encoder);
            }

            if (textModel.Task != TextTask.Classify)
            {
                return context.Fail(ExitCodes.BadInput, $"model {textModel.Name} is a regression; the barometer needs a sentiment classifier.");
            }

            var scorer = textModel.Encoder ?? textModel.Baseline;
            var probabilities = new double[texts.Texts.Count * textModel.Outputs];
            await context.Console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .StartAsync(async progress =>
                {
                    var bar = progress.AddTask($"Labelling {texts.Texts.Count:N0} texts ({scorer.Family.ToString().ToLowerInvariant()})", maxValue: texts.Texts.Count);
                    await Task.Run(() =>
                    {
                        const int Block = 256;
                        for (var start = 0; start < texts.Texts.Count; start += Block)
                        {
                            var block = texts.Texts.Skip(start).Take(Block).Select(t => t.Text).ToArray();
                            scorer.Score(block, probabilities.AsSpan(start * textModel.Outputs, block.Length * textModel.Outputs), cancellationToken);
                            bar.Increment(block.Length);
                        }
                    }, cancellationToken);
                });

            var rule = parse.GetValue(expected) ? PolarityRule.Expected : PolarityRule.MostLikely;
            BarometerResult result;
            try
            {
                var rows = BarometerInput.FromProbabilities(texts.Dates(), probabilities, textModel.Classes, PolarityMapping.Default, rule);
                result = SentimentBarometer.Aggregate(rows, new BarometerOptions { Period = every, SmoothingWindow = parse.GetValue(smoothing), Seed = parse.GetValue(seed) });
            }
            catch (ArgumentException e)
            {
                return context.Fail(ExitCodes.BadInput, $"{e.Message} (the model's classes: {string.Join(", ", textModel.Classes)})");
            }

            var description = new BarometerDescription(textModel.Name, Path.GetFileName(parse.GetValue(input)), parse.GetValue(text), parse.GetValue(date), rule, PolarityMapping.Default.ToString());
            if (parse.GetValue(json) is { } jsonPath)
            {
                await File.WriteAllTextAsync(jsonPath, BarometerJson.Serialize(result, description) + "\n", cancellationToken);
                context.Error.WriteLine($"wrote {jsonPath}");
            }

            if (parse.GetValue(html) is { } htmlPath)
            {
                await File.WriteAllTextAsync(htmlPath, Charts.BarometerHtml.Render(result, description, DateTimeOffset.UtcNow), cancellationToken);
                context.Error.WriteLine($"wrote {htmlPath}");
            }

            var table = new Table().AddColumns("period", "texts", "index", "95% interval", "smoothed");
            foreach (var p in result.Points.TakeLast(12))
            {
                table.AddRow(p.Label, p.Count.ToString("N0", CultureInfo.InvariantCulture),
                    Format(p.Index), p.Lower is { } low && p.Upper is { } high ? Markup.Escape($"[{Format(low)}, {Format(high)}]") : "", Format(p.Smoothed));
            }

            context.Console.Write(table);
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{result.Texts:N0} texts in {result.Points.Count} periods ({result.Points.Count(p => p.IsGap)} without texts); the last 12 shown"));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string Format(double? value) => value is { } v ? v.ToString("+0.000;-0.000;0.000", CultureInfo.InvariantCulture) : "";
}
