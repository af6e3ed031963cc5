using System.Globalization;
using System.Net;
using System.Text;
using Lasthope.Core.Serving;
using Lasthope.Server.Experiments;
using ScottPlot;

namespace Lasthope.Cli.Charts;

/// <summary>
/// The HTML of <c>experiment report --html</c>: one self-contained page (inline SVG charts drawn by ScottPlot, inline
/// CSS, no script, nothing fetched), so it can be mailed or attached to a ticket. It holds the verdict, the arms
/// table with intervals, the as-served cells, the two alarms, and two charts: each arm's CTR per day, and the share
/// of each arm's requests by the path that served them, where a mixture shows at a glance.
/// </summary>
internal static class ExperimentHtml
{
    private const int ChartWidth = 760, ChartHeight = 320;

    /// <summary>The served paths in the order the share chart stacks them, with their colours.</summary>
    private static readonly (ServedBy Path, string Name, Color Color)[] PathColors =
    [
        (ServedBy.Model, "model", Colors.SeaGreen),
        (ServedBy.ModelPartial, "model_partial", Colors.YellowGreen),
        (ServedBy.Heuristic, "heuristic", Colors.SteelBlue),
        (ServedBy.HeuristicFallback, "heuristic_fallback", Colors.OrangeRed),
    ];

    public static string Render(ExperimentReport report, DateTimeOffset generated)
    {
        ArgumentNullException.ThrowIfNull(report);
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<title>Experiment ").Append(Encode(report.ExperimentId)).Append("</title>")
            .Append("<style>body{font-family:system-ui,sans-serif;max-width:820px;margin:2em auto;color:#222}")
            .Append("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}")
            .Append("td:first-child,th:first-child{text-align:left}.alarm{color:#b00;font-weight:bold}.ok{color:#070}</style></head><body>\n")
            .Append("<h1>Experiment ").Append(Encode(report.ExperimentId)).Append("</h1>\n")
            .Append(Invariant($"<p>Control: {Encode(report.Control)}. Generated {generated:yyyy-MM-dd HH:mm} UTC.</p>\n"))
            .Append("<p><strong>").Append(Encode(report.Verdict)).Append("</strong></p>\n");

        html.Append("<h2>Arms, as assigned</h2>\n<table><tr><th>arm</th><th>users</th><th>requests</th><th>impressions</th><th>clicks</th><th>CTR [95%]</th><th>effect vs control</th><th>fallback share</th></tr>\n");
        foreach (var a in report.Arms)
        {
            var effect = a.EffectVsControl is { } e ? Share(e.Estimate, e.Lower, e.Upper) : "-";
            var fallback = a.MeantModel ? Percent(a.FallbackShare, 1) : "-";
            html.Append(Invariant($"<tr><td>{Encode(a.Arm)}</td><td>{a.Users:N0}</td><td>{a.Requests:N0}</td><td>{a.Impressions:N0}</td><td>{a.Clicks:N0}</td><td>{Share(a.Ctr.Estimate, a.Ctr.Lower, a.Ctr.Upper)}</td><td>{effect}</td><td>{fallback}</td></tr>\n"));
        }

        html.Append("</table>\n<h2>As served</h2>\n<table><tr><th>arm</th><th>servedBy</th><th>reason</th><th>requests</th><th>CTR</th></tr>\n");
        foreach (var a in report.Arms)
        {
            foreach (var p in a.Paths)
            {
                html.Append(Invariant($"<tr><td>{Encode(a.Arm)}</td><td>{p.ServedBy.ToWire()}</td><td>{p.Reason?.ToWire() ?? "-"}</td><td>{p.Requests:N0}</td><td>{(double.IsFinite(p.Ctr) ? Percent(p.Ctr, 2) : "-")}</td></tr>\n"));
            }
        }

        var srm = report.SampleRatio;
        var skew = report.FallbackSkew;
        html.Append("</table>\n<h2>Alarms</h2>\n")
            .Append(Invariant($"<p>Sample ratio: chi-square {srm.ChiSquare:F2} on {srm.DegreesOfFreedom} degrees of freedom, p = {srm.PValue:G3} {Alarm(srm.Alarm)}</p>\n"))
            .Append(Invariant($"<p>Fallback skew: {Encode(skew.Arm ?? "no model arm")} {Percent(skew.FallbackShare, 1)} of requests served by the fallback and {Percent(skew.PartialShare, 1)} only partly re-ranked in time (threshold {Percent(skew.Threshold, 0)} for the two) {Alarm(skew.Alarm)}</p>\n"))
            .Append("<h2>CTR per arm, by day</h2>\n").Append(Svg(CtrByDay(report)))
            .Append("<h2>Requests by the path that served them</h2>\n").Append(Svg(PathShares(report)))
            .Append("</body></html>\n");
        return html.ToString();
    }

    private static Plot CtrByDay(ExperimentReport report)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (var i = 0; i < report.Arms.Count; i++)
        {
            var arm = report.Arms[i];
            var days = arm.Days.Where(d => double.IsFinite(d.Ctr)).ToArray();
            if (days.Length == 0)
            {
                continue;
            }

            var line = plot.Add.Scatter(days.Select(d => d.Day.ToDateTime(TimeOnly.MinValue).ToOADate()).ToArray(), days.Select(d => d.Ctr * 100).ToArray());
            line.Color = palette.GetColor(i);
            line.LineWidth = 2;
            line.MarkerSize = 5;
            line.LegendText = arm.Arm;
        }

        plot.Axes.DateTimeTicksBottom();
        plot.YLabel("CTR (%)");
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    private static Plot PathShares(ExperimentReport report)
    {
        var plot = new Plot();
        var bars = new List<Bar>();
        for (var i = 0; i < report.Arms.Count; i++)
        {
            var arm = report.Arms[i];
            var start = 0.0;
            foreach (var (path, _, color) in PathColors)
            {
                var share = arm.Requests == 0 ? 0 : arm.Paths.Where(p => p.ServedBy == path).Sum(p => p.Requests) * 100.0 / arm.Requests;
                if (share > 0)
                {
                    bars.Add(new Bar { Position = i, ValueBase = start, Value = start + share, FillColor = color });
                    start += share;
                }
            }
        }

        plot.Add.Bars(bars);
        foreach (var (_, name, color) in PathColors)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = name, FillColor = color });
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. Enumerable.Range(0, report.Arms.Count).Select(i => (double)i)], [.. report.Arms.Select(a => a.Arm)]);
        plot.Axes.SetLimitsY(0, 100);
        plot.YLabel("share of the arm's requests (%)");
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    private static string Svg(Plot plot) => InlineSvg.Of(plot, ChartWidth, ChartHeight);

    private static string Alarm(bool alarm) => alarm ? "<span class=\"alarm\">ALARM</span>" : "<span class=\"ok\">ok</span>";

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private static string Percent(double share, int decimals) => (share * 100).ToString("F" + decimals, CultureInfo.InvariantCulture) + "%";

    private static string Share(double estimate, double lower, double upper) =>
        Invariant($"{estimate * 100:F2}% [{lower * 100:F2}, {upper * 100:F2}]");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
