using System.Globalization;
using Lasthope.Evaluation;
using Spectre.Console;

namespace Lasthope.Cli.Commands;

/// <summary>What <c>evaluate-recs</c> prints: a table for people (standard error) and TSV for pipes (standard output).</summary>
internal static class EvaluateRecsOutput
{
    public static void PrintTable(CliContext context, RecsEvaluationReport report)
    {
        var table = new Spectre.Console.Table().Border(TableBorder.Rounded)
            .Title(Markup.Escape($"{report.Users:N0} users, {report.Level:P0} intervals over users ({report.Resamples} resamples: bootstrap for the means, delete-half jackknife for coverage); precision divides by {(report.Precision == PrecisionDenominator.K ? "k" : "min(k, |test|)")}"))
            .AddColumns("metric", Markup.Escape(report.ModelName), Markup.Escape(report.BaselineName), Markup.Escape($"{report.ModelName} - {report.BaselineName} (paired)"), "verdict (paired)");
        foreach (var m in report.Metrics)
        {
            table.AddRow(
                Markup.Escape($"{m.Metric}@{m.K}"),
                Markup.Escape(m.Model.ToString()),
                Markup.Escape(m.Baseline.ToString()),
                Markup.Escape(m.Difference.ToString()),
                Verdict(m));
        }

        context.Console.Write(table);
    }

    /// <summary>
    /// The verdict of a row, from the paired interval of the difference only (<see cref="MetricComparison.ModelAboveBaseline"/>):
    /// the two separate intervals may overlap while every paired resample puts the model ahead.
    /// </summary>
    public static string Verdict(MetricComparison m) =>
        m.ModelAboveBaseline ? "[green]above[/]" : m.ModelBelowBaseline ? "[red]below[/]" : "[yellow]not shown[/]";

    public static void WriteTsv(TextWriter output, RecsEvaluationReport report)
    {
        var m0 = report.ModelName;
        var b0 = report.BaselineName;
        output.WriteLine($"metric\tk\t{m0}\t{m0}_lower\t{m0}_upper\t{b0}\t{b0}_lower\t{b0}_upper\tdifference\tdifference_lower\tdifference_upper");
        foreach (var m in report.Metrics)
        {
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{m.Metric}\t{m.K}\t{m.Model.Estimate:F6}\t{m.Model.Lower:F6}\t{m.Model.Upper:F6}\t{m.Baseline.Estimate:F6}\t{m.Baseline.Lower:F6}\t{m.Baseline.Upper:F6}\t{m.Difference.Estimate:F6}\t{m.Difference.Lower:F6}\t{m.Difference.Upper:F6}"));
        }
    }
}
