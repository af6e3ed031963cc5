using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Lasthope.Evaluation;
using Lasthope.Text.EditNeed;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary>What <c>train-edit-need</c> prints and writes: the held-out table, the differences and verdicts, the JSON summary.</summary>
internal static class EditNeedOutput
{
    internal static void Print(CliContext context, EditNeedTrainingReport report)
    {
        var c = report.Comparison;
        foreach (var note in report.Notes)
        {
            context.Error.WriteLine(note);
        }

        var flags = c.WithinText ? $"the top {c.HighlightShare:P0} of each text's units" : $"the top {c.HighlightShare:P0} of all held-out units";
        context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{report.TrainDocuments} documents ({report.TrainUnits:N0} units, {report.ValidationUnits:N0} of them to stop early) to train; {c.Documents} held out ({c.Texts} texts, {c.Units:N0} units)"));
        context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"needs editing: a true edit rate above {c.RelevantAbove:0.###} (the training units' {report.Options.RelevantQuantile:P0} quantile), {c.RelevantShare:P1} of the held-out units; flagged: {flags}"));
        if (report.EncoderMsPerText is { } ms)
        {
            context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"encoder: {report.Model.EncoderName}, {ms:0.00} ms per unit in batches of {report.Options.BatchSize}"));
        }

        var table = new Table().Border(TableBorder.Rounded)
            .Title(Markup.Escape($"held out, 95% intervals from {c.Resamples} resamples of {c.Documents} documents"))
            .AddColumn("model").AddColumn("Spearman").AddColumn($"precision of top {c.HighlightShare:P0}");
        foreach (var m in c.Models)
        {
            table.AddRow(Markup.Escape(m.Name + (m.IsBaseline ? " (baseline)" : "")), Markup.Escape(Format(m.Spearman)), Markup.Escape(Format(m.Precision)));
        }

        foreach (var d in c.Differences)
        {
            table.AddRow(Markup.Escape($"{d.Name} - {d.Baseline}"), Markup.Escape(TrainModelOutput.Signed(d.Spearman)), Markup.Escape(TrainModelOutput.Signed(d.Precision)));
        }

        context.Console.Write(table);
        foreach (var d in c.Differences)
        {
            context.Out.WriteLine(d.Verdict);
        }
    }

    internal static string Format(Interval v) => string.Create(CultureInfo.InvariantCulture, $"{v.Estimate:0.0000} [{v.Lower:0.0000}, {v.Upper:0.0000}]");

    internal static string Json(EditNeedTrainingReport report) => JsonSerializer.Serialize(
        new EditNeedSummary(EditNeedModelLevel(report.Model.Level), report.Options.Seed, report.TrainDocuments, report.TrainUnits, report.ValidationUnits, report.Model.EncoderName,
            report.EncoderMsPerText, report.Comparison, report.Notes),
        EditNeedCliJson.Default.EditNeedSummary);

    private static string EditNeedModelLevel(EditNeedLevel level) => level == EditNeedLevel.Paragraph ? "paragraph" : "sentence";
}

/// <summary>What <c>train-edit-need --json</c> writes.</summary>
internal sealed record EditNeedSummary(string Level, int Seed, int TrainDocuments, int TrainUnits, int ValidationUnits, string? Encoder, double? EncoderMsPerText, EditNeedComparison Comparison, IReadOnlyList<string> Notes);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, WriteIndented = true)]
[JsonSerializable(typeof(EditNeedSummary))]
[JsonSerializable(typeof(AnnotationScore))]
internal sealed partial class EditNeedCliJson : JsonSerializerContext;
