using System.Globalization;
using System.Net;
using System.Text;
using Lasthope.Text.EditNeed;
using ScottPlot;

namespace Lasthope.Cli.Charts;

/// <summary>
/// The page of <c>lasthope train-edit-need --html</c>: one self-contained document (inline SVG drawn by ScottPlot,
/// inline CSS, no script), as <see cref="BarometerHtml"/> is. The precision of the highlights and Spearman's ρ of every
/// model with their document-clustered intervals as a chart, then both in a table, the paired differences from the
/// best baseline with their verdicts, and the setup that gives the figures their meaning.
/// </summary>
internal static class EditNeedHtml
{
    private const int ChartWidth = 760, ChartHeight = 320;

    private static readonly Color BaselineColor = Colors.Gray, LearntColor = Colors.SteelBlue;

    public static string Render(EditNeedTrainingReport report, string command, DateTimeOffset generated)
    {
        ArgumentNullException.ThrowIfNull(report);
        var c = report.Comparison;
        var level = report.Model.Level == EditNeedLevel.Paragraph ? "paragraph" : "sentence";
        var title = $"Edit need, {level} level";
        var flags = c.WithinText ? $"the top {c.HighlightShare:P0} of each text's units (at least one)" : $"the top {c.HighlightShare:P0} of all held-out units";
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(Encode(title)).Append("</title>")
            .Append("<style>body{font-family:system-ui,sans-serif;max-width:820px;margin:2em auto;color:#222}")
            .Append("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}")
            .Append("td:first-child,th:first-child{text-align:left}.muted{color:#666}</style></head><body>\n")
            .Append("<h1>").Append(Encode(title)).Append("</h1>\n")
            .Append(Invariant($"<p class=\"muted\">Generated {generated.ToUniversalTime():yyyy-MM-dd HH:mm} UTC.</p>\n"))
            .Append("<p>").Append(Encode(Invariant(
                $"{report.TrainDocuments} documents ({report.TrainUnits:N0} units, {report.ValidationUnits:N0} of them to stop the trees early) to train; {c.Documents} held out ({c.Texts} texts, {c.Units:N0} units). A unit needs editing when its true word-level edit rate is above {c.RelevantAbove:0.###} (the training units' {report.Options.RelevantQuantile:P0} quantile): {c.RelevantShare:P1} of the held-out units. Flagged: {flags}. Intervals: 95% percentile bootstrap over {c.Resamples:N0} resamples of held-out documents; differences paired on the same resamples, against the best baseline ({c.BestBaseline})."))).Append("</p>\n");
        html.Append("<h2>Precision of the highlights</h2>\n").Append(InlineSvg.Of(Chart(c, m => m.Precision, $"precision of the top {c.HighlightShare:P0}", c.RelevantShare), ChartWidth, ChartHeight))
            .Append(Invariant($"<p class=\"muted\">The dashed line is the share of held-out units that need editing ({c.RelevantShare:P1}): what flagging at random finds on average.</p>\n"));
        html.Append("<h2>Spearman's ρ of predicted and true edit rates</h2>\n").Append(InlineSvg.Of(Chart(c, m => m.Spearman, "Spearman's ρ", 0), ChartWidth, ChartHeight));

        html.Append("<h2>Models</h2>\n<table><tr><th>model</th><th>Spearman</th><th>precision of the top ").Append(Encode(c.HighlightShare.ToString("P0", CultureInfo.InvariantCulture))).Append("</th></tr>\n");
        foreach (var m in c.Models)
        {
            html.Append("<tr><td>").Append(Encode(m.Name + (m.IsBaseline ? " (baseline)" : ""))).Append("</td><td>").Append(Encode(m.Spearman.ToString()))
                .Append("</td><td>").Append(Encode(m.Precision.ToString())).Append("</td></tr>\n");
        }

        html.Append("</table>\n<h2>Against the best baseline (paired)</h2>\n<table><tr><th>difference</th><th>Spearman</th><th>precision</th><th>verdict</th></tr>\n");
        foreach (var d in c.Differences)
        {
            html.Append("<tr><td>").Append(Encode($"{d.Name} - {d.Baseline}")).Append("</td><td>").Append(Encode(Signed(d.Spearman))).Append("</td><td>")
                .Append(Encode(Signed(d.Precision))).Append("</td><td>").Append(Encode(d.Verdict)).Append("</td></tr>\n");
        }

        html.Append("</table>\n");
        foreach (var note in report.Notes)
        {
            html.Append("<p class=\"muted\">").Append(Encode(note)).Append("</p>\n");
        }

        return html.Append("<p class=\"muted\">Command: ").Append(Encode(command)).Append("</p>\n</body></html>\n").ToString();
    }

    /// <summary>One bar per model with its interval as an error bar; baselines grey, learnt models blue; a reference line.</summary>
    private static Plot Chart(EditNeedComparison c, Func<EditNeedModelResult, Lasthope.Evaluation.Interval> value, string label, double reference)
    {
        var plot = new Plot();
        var bars = c.Models.Select((m, i) => new Bar
        {
            Position = i,
            Value = Finite(value(m).Estimate),
            Error = 0,
            FillColor = m.IsBaseline ? BaselineColor : LearntColor,
        }).ToList();
        plot.Add.Bars(bars);
        for (var i = 0; i < c.Models.Count; i++)
        {
            var v = value(c.Models[i]);
            if (double.IsFinite(v.Lower) && double.IsFinite(v.Upper))
            {
                var line = plot.Add.Line(i, v.Lower, i, v.Upper);
                line.Color = Colors.Black;
                line.LineWidth = 2;
            }
        }

        var rule = plot.Add.HorizontalLine(reference);
        rule.LinePattern = LinePattern.Dashed;
        rule.Color = Colors.DarkRed;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. Enumerable.Range(0, c.Models.Count).Select(i => (double)i)], [.. c.Models.Select(m => m.Name)]);
        plot.YLabel(label);
        return plot;
    }

    private static double Finite(double v) => double.IsFinite(v) ? v : 0;

    private static string Signed(Lasthope.Evaluation.Interval v) => Invariant($"{v.Estimate:+0.0000;-0.0000} [{v.Lower:+0.0000;-0.0000}, {v.Upper:+0.0000;-0.0000}]");

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
