using System.Globalization;
using System.Text.Json;
using Lasthope.Cli.Charts;
using Lasthope.Evaluation;
using Lasthope.Text;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary>What <c>train-text</c> prints and writes: the held-out table with intervals, the verdict, the encoder's cost, the JSON summary and the HTML report.</summary>
internal static class TrainTextOutput
{
    internal static void Print(CliContext context, TextTrainingReport report, string path)
    {
        var e = report.Evaluation;
        foreach (var note in report.Notes)
        {
            context.Error.WriteLine(note);
        }

        context.Error.WriteLine(Invariant($"{Path.GetFileName(path)}: {report.TrainRows:N0} texts to train, {e.Rows:N0} held out{(e.Task == TextTask.Classify ? $", {e.Classes.Count} classes" : "")}; TF-IDF trained in {report.BaselineTraining.TotalSeconds:F1} s{(report.Cost is null ? "" : $", encoder head (with encoding) in {report.EncoderTraining.TotalSeconds:F1} s")}"));
        var table = new Table().Border(TableBorder.Rounded)
            .Title(Markup.Escape($"held-out metrics, 95% bootstrap intervals over {e.Rows:N0} texts"))
            .AddColumn("metric");
        foreach (var m in e.Models)
        {
            table.AddColumn(Markup.Escape(m.Model));
        }

        table.AddColumn(Markup.Escape($"{e.Models[0].Model} - {e.BestBaseline}"));
        for (var k = 0; k < e.Metrics.Count; k++)
        {
            table.AddRow([Markup.Escape(e.Metrics[k] + (e.HigherIsBetter[k] ? " ↑" : " ↓")), .. e.Values.Select(v => Markup.Escape(v[k].ToString())), Markup.Escape(TrainModelOutput.Signed(e.Difference[k]))]);
        }

        context.Console.Write(table);
        context.Out.WriteLine(e.Verdict);
        if (report.Cost is { } c)
        {
            context.Out.WriteLine(Cost(c));
        }
    }

    internal static string Cost(EncoderCost c) => Invariant(
        $"encoder {c.Encoder}: {c.MsPerTextBatched:F2} ms per text in batches of {c.BatchSize} ({c.BatchedTexts:N0} texts), {c.MsPerTextSingle:F2} ms per text one at a time (p50 {c.SingleP50Ms:F2}, p95 {c.SingleP95Ms:F2} ms over {c.SingleTexts} texts); held-out texts average {c.MeanCharacters:F0} characters");

    internal static TrainTextSummary Summary(TextTrainingReport report, string command)
    {
        var e = report.Evaluation;
        static MetricCell Cell(string metric, Interval v) => new(metric, v.Estimate, v.Lower, v.Upper);
        var perClass = e.Task == TextTask.Classify
            ? e.Classes.Select((name, k) => new ClassSummary(name, e.Models[0].PerClass[k].Support,
                [.. e.Models.Where(m => m.Model != TextTraining.PriorModel).Select(m => new ClassMetrics(m.Model, Cell("precision", m.PerClass[k].Precision), Cell("recall", m.PerClass[k].Recall), Cell("f1", m.PerClass[k].F1)))],
                Cell("f1", e.ClassF1Difference[k]))).ToList()
            : [];
        return new TrainTextSummary(
            report.Model.Name, e.Task == TextTask.Classify ? "classify" : "regress", report.TrainRows, e.Rows, e.Classes.Count, e.BestBaseline, e.Verdict,
            [.. e.Models.Select((m, i) => new ModelMetricsSummary(m.Model, [.. e.Metrics.Select((k, j) => Cell(k, e.Values[i][j]))]))],
            [.. e.Metrics.Select((k, j) => Cell(k, e.Difference[j]))],
            report.Cost, report.BaselineTraining.TotalSeconds, report.EncoderTraining.TotalSeconds, perClass, report.Notes, command);
    }

    internal static string Json(TextTrainingReport report, string command) => JsonSerializer.Serialize(Summary(report, command), ReportJson.Default.TrainTextSummary);

    /// <summary>The report: the metrics with intervals, the confusion matrix of the first model, per-class precision and recall of both families.</summary>
    internal static string Html(TextTrainingReport report, string path, string command, DateTimeOffset generated)
    {
        var e = report.Evaluation;
        var first = e.Models[0];
        var classify = e.Task == TextTask.Classify;
        var k = e.Classes.Count;
        double[] Scores(ModelResult m) => classify ? [.. m.Predicted.Select((c, i) => m.Predictions[i * k + c])] : m.Predictions;
        var notes = new List<string> { e.Verdict };
        if (report.Cost is { } cost)
        {
            notes.Add(Cost(cost) + ".");
        }

        notes.AddRange(report.Notes);
        notes.Add($"Command: {command}");
        var tables = new List<HtmlTable>();
        if (classify)
        {
            var families = e.Models.Where(m => m.Model != TextTraining.PriorModel).ToList();
            tables.Add(new HtmlTable(
                "Per-class precision and recall",
                "On the held-out texts, with 95% bootstrap intervals over texts (the same resamples for every model), and the paired F1 difference; the support (held-out texts of the class) says how far to trust each.",
                ["class", "support", .. families.SelectMany(m => new[] { $"{m.Model} precision", $"{m.Model} recall", $"{m.Model} F1" }), $"F1 {first.Model} - {e.BestBaseline}"],
                [.. e.Classes.Select((name, c) => (IReadOnlyList<string>)[name, first.PerClass[c].Support.ToString(CultureInfo.InvariantCulture),
                    .. families.SelectMany(m => new[] { m.PerClass[c].Precision.ToString(), m.PerClass[c].Recall.ToString(), m.PerClass[c].F1.ToString() }),
                    TrainModelOutput.Signed(e.ClassF1Difference[c])])]));
        }

        var input = new PredictionReportInput
        {
            Title = $"Text model {report.Model.Name} on {Path.GetFileName(path)}",
            Task = classify ? "multiclass" : "regression",
            ModelName = first.Model,
            Notes = notes,
            MetricColumns = [.. e.Models.Select(m => m.Model), $"{first.Model} - {e.BestBaseline}"],
            Metrics = [.. e.Metrics.Select((metric, j) => new MetricRow(metric + (e.HigherIsBetter[j] ? " ↑" : " ↓"), [.. e.Values.Select(v => v[j].ToString()), TrainModelOutput.Signed(e.Difference[j])]))],
            Scores = Scores(first),
            Labels = e.Labels,
            PredictedClasses = classify ? first.Predicted : null,
            ClassNames = e.Classes,
            Baselines = classify ? [] : [.. e.Models.Skip(1).Select(m => (m.Model, m.Predictions))],
            Tables = tables,
        };
        return PredictionHtml.Render(input, generated);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

internal sealed record ClassMetrics(string Model, MetricCell Precision, MetricCell Recall, MetricCell F1);

/// <summary>One class: each family's precision, recall and F1 with intervals, and the paired F1 difference of the first from the best baseline.</summary>
internal sealed record ClassSummary(string Class, int Support, IReadOnlyList<ClassMetrics> Models, MetricCell F1Difference);

/// <summary>What <c>train-text --json</c> writes.</summary>
internal sealed record TrainTextSummary(
    string Name,
    string Task,
    int TrainRows,
    int TestRows,
    int Classes,
    string BestBaseline,
    string Verdict,
    IReadOnlyList<ModelMetricsSummary> Models,
    IReadOnlyList<MetricCell> Difference,
    EncoderCost? EncoderCost,
    double BaselineTrainingSeconds,
    double EncoderTrainingSeconds,
    IReadOnlyList<ClassSummary> PerClass,
    IReadOnlyList<string> Notes,
    string Command);
