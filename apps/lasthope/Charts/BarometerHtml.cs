using System.Globalization;
using System.Net;
using System.Text;
using Lasthope.Text.Barometer;
using ScottPlot;

namespace Lasthope.Cli.Charts;

/// <summary>
/// The page of <c>lasthope barometer --html</c>: one self-contained document (inline SVG drawn by ScottPlot, inline
/// CSS, no script, nothing fetched), as <see cref="LtvHtml"/> is. It shows the index per period with its bootstrap
/// band and the smoothed line, the texts behind each point as bars under it (on the same dates), then every period in
/// a table. Gaps (periods without texts) break the lines and the band instead of being drawn as zeros.
/// </summary>
internal static class BarometerHtml
{
    private const int ChartWidth = 760, IndexHeight = 340, CountHeight = 180;
    private const int SmallCount = 30;

    private static readonly Color IndexColor = Colors.SteelBlue, SmoothedColor = Colors.OrangeRed, CountColor = Colors.Gray;

    /// <summary>The page for <paramref name="result"/>, described by <paramref name="description"/>, stamped with <paramref name="generated"/> (shown in UTC).</summary>
    public static string Render(BarometerResult result, BarometerDescription description, DateTimeOffset generated)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(description);
        var o = result.Options;
        var period = o.Period.ToString().ToLowerInvariant();
        var title = "Sentiment barometer" + (description.Input is { } input ? $" of {input}" : "");
        var gaps = result.Points.Count(p => p.IsGap);
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(Encode(title)).Append("</title>")
            .Append("<style>body{font-family:system-ui,sans-serif;max-width:820px;margin:2em auto;color:#222}")
            .Append("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}")
            .Append("td:first-child,th:first-child{text-align:left}.muted{color:#666}tr.gap td{color:#999}</style></head><body>\n")
            .Append("<h1>").Append(Encode(title)).Append("</h1>\n")
            .Append(Invariant($"<p class=\"muted\">Generated {generated.ToUniversalTime():yyyy-MM-dd HH:mm} UTC. {result.Texts:N0} texts in {result.Points.Count:N0} {period}s"))
            .Append(gaps > 0 ? Invariant($", {gaps:N0} of them without texts (gaps, not zeros)") : "").Append(".</p>\n");

        var source = new List<string>();
        if (description.Model is { } model)
        {
            source.Add($"Labelled by the text model {model}");
        }

        if (description.TextColumn is { } text && description.DateColumn is { } date)
        {
            source.Add($"texts from column '{text}', dates from '{date}'");
        }

        if (source.Count > 0)
        {
            html.Append("<p>").Append(Encode(string.Join("; ", source) + ".")).Append("</p>\n");
        }

        html.Append("<p>").Append(Encode(Explanation(description, o))).Append("</p>\n");
        if (result.Points.Count == 0)
        {
            return html.Append("<p>No text has a date: there is nothing to draw.</p>\n</body></html>\n").ToString();
        }

        var (from, to) = Limits(result.Points);
        html.Append("<h2>Index per ").Append(period).Append("</h2>\n").Append(InlineSvg.Of(IndexPlot(result, from, to), ChartWidth, IndexHeight))
            .Append(InlineSvg.Of(CountPlot(result, from, to), ChartWidth, CountHeight))
            .Append(Invariant($"<p class=\"muted\">The index is the share of positive texts minus the share of negative ones, from -1 (all negative) to +1 (all positive). The band is the {o.Level:P0} percentile bootstrap interval of each point; it is too narrow where a point has few texts (one text gives no width), so read it with the count below: points of fewer than {SmallCount} texts are marked * in the table.</p>\n"));
        Table(html, result);
        return html.Append("</body></html>\n").ToString();
    }

    private static string Explanation(BarometerDescription description, BarometerOptions o)
    {
        var polarity = description.Rule == PolarityRule.Expected
            ? "Each text counts its expected polarity, P(positive) - P(negative) by the model's probabilities"
            : "Each text counts +1 when the model's most likely class is positive, -1 when it is negative and 0 when it is neutral";
        var mapping = description.Mapping is { } m ? $" ({m})" : "";
        var smoothing = o.SmoothingWindow == 1
            ? "No smoothing."
            : $"The smoothed line is the index of all texts of the last {o.SmoothingWindow} {o.Period.ToString().ToLowerInvariant()}s (this one included; periods without texts count as periods of the window), so a point of many texts weighs more than one of few.";
        return string.Create(CultureInfo.InvariantCulture, $"{polarity}{mapping}. {smoothing} Intervals: {o.Resamples:N0} bootstrap resamples of each period's texts (Efron and Tibshirani 1993), seed {o.Seed}.");
    }

    private static Plot IndexPlot(BarometerResult result, double from, double to)
    {
        var plot = new Plot();
        var zero = plot.Add.HorizontalLine(0);
        zero.Color = Colors.Gray;
        zero.LinePattern = LinePattern.Dashed;
        zero.LineWidth = 1;
        var markers = result.Points.Count <= 120 ? 5f : 0f;
        var first = true;
        foreach (var run in Runs(result.Points, p => p.Index is not null))
        {
            var xs = run.Select(Middle).ToArray();
            if (run.Length > 1)
            {
                var band = plot.Add.FillY(xs, [.. run.Select(p => p.Lower!.Value)], [.. run.Select(p => p.Upper!.Value)]);
                band.FillColor = IndexColor.WithAlpha(0.2);
                band.LineColor = Colors.Transparent;
            }
            else
            {
                var bar = plot.Add.Line(xs[0], run[0].Lower!.Value, xs[0], run[0].Upper!.Value);
                bar.Color = IndexColor.WithAlpha(0.4);
                bar.LineWidth = 3;
            }

            var line = plot.Add.Scatter(xs, [.. run.Select(p => p.Index!.Value)]);
            line.Color = IndexColor;
            line.LineWidth = 1.5f;
            line.MarkerSize = Math.Max(markers, run.Length == 1 ? 5 : 0);
            line.LegendText = first ? "index" : "";
            first = false;
        }

        first = true;
        foreach (var run in Runs(result.Points, p => p.Smoothed is not null))
        {
            var line = plot.Add.Scatter(run.Select(Middle).ToArray(), [.. run.Select(p => p.Smoothed!.Value)]);
            line.Color = SmoothedColor;
            line.LineWidth = 2.5f;
            line.MarkerSize = run.Length == 1 ? 6 : 0;
            line.LegendText = first ? Invariant($"smoothed ({result.Options.SmoothingWindow} {result.Options.Period.ToString().ToLowerInvariant()}s, trailing)") : "";
            first = false;
        }

        plot.Legend.ManualItems.Add(new LegendItem { LabelText = Invariant($"{result.Options.Level:P0} interval"), FillColor = IndexColor.WithAlpha(0.2) });
        DateAxis(plot, bottom: 70);
        plot.Axes.SetLimits(from, to, -1.05, 1.05);
        plot.YLabel("index");
        plot.ShowLegend(Edge.Bottom);
        return plot;
    }

    private static Plot CountPlot(BarometerResult result, double from, double to)
    {
        var plot = new Plot();
        var bars = result.Points.Where(p => p.Count > 0)
            .Select(p => new Bar { Position = Middle(p), Value = p.Count, Size = 0.8 * (p.End.DayNumber - p.Start.DayNumber + 1), FillColor = CountColor, LineWidth = 0 })
            .ToList();
        plot.Add.Bars(bars);
        DateAxis(plot, bottom: 40);
        plot.Axes.SetLimits(from, to, 0, Math.Max(1, result.Points.Max(p => p.Count)) * 1.1);
        plot.YLabel("texts");
        return plot;
    }

    /// <summary>ISO dates on the bottom axis, and the same margins on both charts so that their dates line up.</summary>
    private static void DateAxis(Plot plot, float bottom)
    {
        var axis = plot.Axes.DateTimeTicksBottom();
        if (axis.TickGenerator is ScottPlot.TickGenerators.DateTimeAutomatic ticks)
        {
            ticks.LabelFormatter = d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        }

        plot.Layout.Fixed(new PixelPadding(left: 80, right: 20, bottom: bottom, top: 10));
    }

    private static void Table(StringBuilder html, BarometerResult result)
    {
        var level = result.Options.Level;
        html.Append(Invariant($"<h2>Every {result.Options.Period.ToString().ToLowerInvariant()}</h2>\n<table><tr><th>period</th><th>from</th><th>texts</th><th>positive</th><th>negative</th><th>index [{level:P0}]</th><th>smoothed</th></tr>\n"));
        foreach (var p in result.Points)
        {
            if (p.IsGap)
            {
                html.Append(Invariant($"<tr class=\"gap\"><td>{p.Label}</td><td>{p.Start:yyyy-MM-dd}</td><td>0</td><td colspan=\"4\">no texts</td></tr>\n"));
                continue;
            }

            html.Append(Invariant($"<tr><td>{p.Label}</td><td>{p.Start:yyyy-MM-dd}</td><td>{p.Count:N0}{(p.Count < SmallCount ? " *" : "")}</td><td>{p.PositiveShare:P1}</td><td>{p.NegativeShare:P1}</td>"))
                .Append(Invariant($"<td>{Signed(p.Index!.Value)} [{Signed(p.Lower!.Value)}, {Signed(p.Upper!.Value)}]</td><td>{Signed(p.Smoothed!.Value)}</td></tr>\n"));
        }

        html.Append("</table>\n");
    }

    /// <summary>The maximal runs of consecutive points that satisfy <paramref name="has"/>: a gap ends a line.</summary>
    private static List<BarometerPoint[]> Runs(IReadOnlyList<BarometerPoint> points, Func<BarometerPoint, bool> has)
    {
        var runs = new List<BarometerPoint[]>();
        var run = new List<BarometerPoint>();
        foreach (var p in points)
        {
            if (has(p))
            {
                run.Add(p);
                continue;
            }

            if (run.Count > 0)
            {
                runs.Add([.. run]);
                run.Clear();
            }
        }

        if (run.Count > 0)
        {
            runs.Add([.. run]);
        }

        return runs;
    }

    /// <summary>The middle of the period on ScottPlot's date axis (OLE automation days).</summary>
    private static double Middle(BarometerPoint p) =>
        p.Start.ToDateTime(TimeOnly.MinValue).ToOADate() + ((p.End.DayNumber - p.Start.DayNumber + 1) / 2.0);

    private static (double From, double To) Limits(IReadOnlyList<BarometerPoint> points)
    {
        var from = points[0].Start.ToDateTime(TimeOnly.MinValue).ToOADate();
        var to = points[^1].End.AddDays(1).ToDateTime(TimeOnly.MinValue).ToOADate();
        var pad = Math.Max(0.5, (to - from) * 0.01);
        return (from - pad, to + pad);
    }

    private static string Signed(double value) => value.ToString("+0.000;-0.000;0.000", CultureInfo.InvariantCulture);

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
