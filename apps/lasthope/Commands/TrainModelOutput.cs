using System.Globalization;
using System.Text.Json;
using Lasthope.Evaluation;
using Lasthope.Server.Predict;
using Lasthope.Training.Tabular;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary>What <c>train-model</c> prints and writes: the held-out table, the decision, the verdict, and the JSON summary.</summary>
internal static class TrainModelOutput
{
    internal static void Print(CliContext context, TabularTrainingReport report, string path)
    {
        var c = report.Comparison;
        foreach (var note in report.Notes)
        {
            context.Error.WriteLine(note);
        }

        context.Error.WriteLine($"{Path.GetFileName(path)}: {report.TrainRows:N0} rows to train, {report.ValidationRows:N0} to stop early (best iteration {report.BestIteration}), {report.TestRows:N0} held out");
        var table = new Table().Border(TableBorder.Rounded)
            .Title(Markup.Escape($"held-out metrics, 95% bootstrap intervals over {c.Rows:N0} rows"))
            .AddColumn("metric");
        foreach (var m in c.Models)
        {
            table.AddColumn(Markup.Escape(m));
        }

        table.AddColumn(Markup.Escape($"{c.Models[0]} - {c.BestBaseline}"));
        for (var k = 0; k < c.Metrics.Count; k++)
        {
            table.AddRow([Markup.Escape(c.Metrics[k] + (c.HigherIsBetter[k] ? " ↑" : " ↓")), .. c.Values.Select(v => Markup.Escape(v[k].ToString())), Markup.Escape(Signed(c.Difference[k]))]);
        }

        context.Console.Write(table);
        if (report.Package.Task == PredictionTask.Binary)
        {
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"decision: {report.Package.PositiveDecision} when P({report.Package.Classes[1]}) >= {report.Threshold:0.####}, else {report.Package.NegativeDecision}"));
        }

        context.Out.WriteLine(c.Verdict);
        context.Out.WriteLine($"top features by mean |SHAP|: {string.Join(", ", report.MeanAbsShap.Take(5).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Feature} {p.MeanAbsShap:F3}")))}");
    }

    internal static string Signed(Interval d) => $"{Signed(d.Estimate)} [{Signed(d.Lower)}, {Signed(d.Upper)}]";

    /// <summary>A signed figure to 4 decimals; one that rounds to zero is +0.0000 (a custom format would print "-+0.0000").</summary>
    internal static string Signed(double value)
    {
        var rounded = Math.Round(value, 4);
        return rounded == 0 ? "+0.0000" : rounded.ToString("+0.0000;-0.0000", CultureInfo.InvariantCulture);
    }

    internal static TrainModelSummary Summary(TabularTrainingReport report)
    {
        var c = report.Comparison;
        static MetricCell Cell(string metric, Interval v) => new(metric, v.Estimate, v.Lower, v.Upper);
        return new TrainModelSummary(
            report.Package.Task.ToString().ToLowerInvariant(), report.TrainRows, report.ValidationRows, report.TestRows, report.BestIteration, report.Threshold,
            c.BestBaseline, c.Verdict,
            [.. c.Models.Select((m, i) => new ModelMetricsSummary(m, [.. c.Metrics.Select((k, j) => Cell(k, c.Values[i][j]))]))],
            [.. c.Metrics.Select((k, j) => Cell(k, c.Difference[j]))],
            [.. report.MeanAbsShap.Select(p => new FeatureImportance(p.Feature, p.MeanAbsShap))]);
    }

    internal static string ComparisonJson(TabularTrainingReport report) => JsonSerializer.Serialize(Summary(report), ReportJson.Default.TrainModelSummary);

    internal static string ParametersJson(TabularTrainingReport report) =>
        string.Create(CultureInfo.InvariantCulture, $"{{\"trees\":{report.BestIteration},\"features\":{report.Package.Features.Count},\"fallback\":\"{report.Package.Fallback.Kind}\"}}");
}

internal sealed record MetricCell(string Metric, double Estimate, double Lower, double Upper);

internal sealed record ModelMetricsSummary(string Model, IReadOnlyList<MetricCell> Metrics);

internal sealed record FeatureImportance(string Feature, double MeanAbsShap);

/// <summary>What <c>train-model --json</c> writes, and what the registered model's metrics hold.</summary>
internal sealed record TrainModelSummary(
    string Task,
    int TrainRows,
    int ValidationRows,
    int TestRows,
    int BestIteration,
    double Threshold,
    string BestBaseline,
    string Verdict,
    IReadOnlyList<ModelMetricsSummary> Models,
    IReadOnlyList<MetricCell> Difference,
    IReadOnlyList<FeatureImportance> MeanAbsShap);
