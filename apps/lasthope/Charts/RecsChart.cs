using System.Globalization;
using System.Text;
using Lasthope.Evaluation;
using ScottPlot;

namespace Lasthope.Cli.Charts;

/// <summary>The chart of <c>evaluate-recs --chart</c>: each metric against k for the model and the baseline.</summary>
internal static class RecsChart
{
    /// <summary>
    /// One panel per metric, metric against k, model and baseline as lines with their intervals shaded. PNG through
    /// ScottPlot's multiplot; SVG by nesting each panel's SVG in one document (ScottPlot's multiplot writes PNG only).
    /// </summary>
    public static bool TryDraw(RecsEvaluationReport report, string title, string path, out string error)
    {
        error = "";
        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension is not (".png" or ".svg"))
        {
            error = $"--chart must end in .png or .svg, not '{extension}'.";
            return false;
        }

        const int Width = 480, Height = 340, Columns = 3;
        var metrics = RecsMetrics.All;
        var plots = metrics.Select(metric => Panel(report, metric, title)).ToArray();
        var rows = (plots.Length + Columns - 1) / Columns;
        if (extension == ".png")
        {
            // A new multiplot holds one empty plot: replace it with the first panel.
            var multiplot = new Multiplot();
            multiplot.Reset(plots[0]);
            foreach (var plot in plots.Skip(1))
            {
                multiplot.AddPlot(plot);
            }

            for (var k = plots.Length; k < rows * Columns; k++)
            {
                multiplot.AddPlot(InfoPanel(report, title));
            }

            multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, Columns);
            multiplot.SavePng(path, Width * Columns, Height * rows);
            return true;
        }

        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"{Width * Columns}\" height=\"{Height * rows}\">\n");
        for (var k = 0; k < plots.Length; k++)
        {
            var inner = plots[k].GetSvgXml(Width, Height);
            var start = inner.IndexOf("<svg", StringComparison.Ordinal);
            inner = inner[start..];
            var x = k % Columns * Width;
            var y = k / Columns * Height;
            svg.Append(inner.Insert(4, string.Create(CultureInfo.InvariantCulture, $" x=\"{x}\" y=\"{y}\""))).Append('\n');
        }

        svg.Append("</svg>\n");
        File.WriteAllText(path, svg.ToString());
        return true;
    }

    private static Plot Panel(RecsEvaluationReport report, string metric, string title)
    {
        var rows = report.Metrics.Where(m => m.Metric == metric).OrderBy(m => m.K).ToArray();
        var xs = rows.Select(m => (double)m.K).ToArray();
        var plot = new Plot();
        void Series(string name, Func<MetricComparison, Interval> pick, ScottPlot.Color color)
        {
            var fill = plot.Add.FillY(xs, rows.Select(m => pick(m).Lower).ToArray(), rows.Select(m => pick(m).Upper).ToArray());
            fill.FillColor = color.WithAlpha(0.2);
            fill.LineColor = ScottPlot.Colors.Transparent;
            var line = plot.Add.Scatter(xs, rows.Select(m => pick(m).Estimate).ToArray());
            line.Color = color;
            line.LineWidth = 2;
            line.MarkerSize = 6;
            line.LegendText = name;
        }

        Series(report.ModelName, m => m.Model, ScottPlot.Colors.C0);
        Series(report.BaselineName, m => m.Baseline, ScottPlot.Colors.C1);
        plot.Title($"{metric}@k");
        plot.XLabel("k");
        plot.YLabel(metric);
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    /// <summary>The empty cell of the grid says what was measured.</summary>
    private static Plot InfoPanel(RecsEvaluationReport report, string title)
    {
        var plot = new Plot();
        plot.Axes.Frameless();
        plot.HideGrid();
        var text = plot.Add.Text(
            string.Create(CultureInfo.InvariantCulture, $"{title}\n{report.Users:N0} users, catalogue {report.CatalogueSize:N0}\nshaded: {report.Level:P0} intervals over users\n({report.Resamples} resamples: bootstrap,\ncoverage: delete-half jackknife)\nprecision divides by {(report.Precision == PrecisionDenominator.K ? "k" : "min(k, |test|)")}"),
            0, 0);
        text.LabelFontSize = 13;
        text.LabelAlignment = Alignment.MiddleCenter;
        plot.Axes.SetLimits(-1, 1, -1, 1);
        return plot;
    }
}
