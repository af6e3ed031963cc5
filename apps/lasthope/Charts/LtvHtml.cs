using System.Globalization;
using System.Net;
using System.Text;
using Lasthope.Cli.Demo;
using Lasthope.Evaluation;
using ScottPlot;

namespace Lasthope.Cli.Charts;

/// <summary>
/// The BI report of <c>demo --scenario ltv</c>: one self-contained page (inline SVG by ScottPlot, no script) with the
/// model and the BI heuristic side by side: LTV by install cohort, predicted against actual, the decile lift table,
/// the revenue metrics with intervals, and the whale list's precision at k.
/// </summary>
internal static class LtvHtml
{
    private const int ChartWidth = 760, ChartHeight = 340;

    public static string Render(LtvResult r, LtvOptions options, DateTimeOffset generated)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(options);
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Player lifetime value</title>")
            .Append("<style>body{font-family:system-ui,sans-serif;max-width:820px;margin:2em auto;color:#222}")
            .Append("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}")
            .Append("td:first-child,th:first-child{text-align:left}.muted{color:#666}</style></head><body>\n")
            .Append("<h1>Player lifetime value: the model beside the BI heuristic</h1>\n")
            .Append(Invariant($"<p class=\"muted\">Generated {generated:yyyy-MM-dd HH:mm} UTC. Simulated players (seed {options.Seed}; Lasthope.Simulation.Players, whose truth is known): {r.Players:N0} installs over {options.InstallDays} days; the {r.TrainPlayers:N0} of install days 0-{options.TrainCohortsBefore - 1} train, the {r.PredictedPlayers:N0} of the later days are predicted from their first 7 days. Whales: the top 1% of payers by 90-day revenue ({r.Whales:N0}).</p>\n"))
            .Append(Invariant($"<p>BI heuristic: revenue by day 7 x {r.Multiplier:F3}, the old cohorts' ratio of 90-day to 7-day revenue.</p>\n"))
            .Append("<p><strong>").Append(Encode(r.Revenue.Verdict)).Append("</strong></p>\n");

        html.Append("<h2>90-day revenue per player, on the predicted cohorts</h2>\n").Append(Table(r.Revenue));
        html.Append("<h2>LTV by install cohort</h2>\n").Append(Svg(Cohorts(r, options)))
            .Append("<p class=\"muted\">Mean 90-day revenue per player of each install day: actual, the model's prediction and the heuristic's. Left of the line the cohorts trained (the model's figures there are in-sample); right of it they are predicted.</p>\n");
        html.Append("<h2>Predicted against actual</h2>\n").Append(Svg(Scatter(r)))
            .Append("<p class=\"muted\">log10(1 + dollars); at most 5,000 players drawn of each; the diagonal is a perfect prediction. Non-payers by day 7 are all at 0 for the heuristic.</p>\n");
        html.Append("<h2>Decile lift</h2>\n<p class=\"muted\">The predicted players in ten equal-count bands by each scorer's prediction, the highest first: the band's mean prediction, mean actual revenue, and its share of all actual revenue.</p>\n")
            .Append(Lift(r.ModelRevenue, r.ActualRevenue, "model")).Append(Lift(r.HeuristicRevenue, r.ActualRevenue, "BI heuristic"));

        html.Append("<h2>Whales</h2>\n<p>").Append(Encode(r.WhaleRanking.Verdict)).Append("</p>\n")
            .Append("<table><tr><th>ranking</th><th>AUC [95%]</th></tr>\n");
        for (var m = 0; m < 2; m++)
        {
            html.Append(Invariant($"<tr><td>{Encode(r.WhaleRanking.Models[m])}</td><td>{r.WhaleRanking.Values[m][0]}</td></tr>\n"));
        }

        html.Append("</table>\n<table><tr><th>whale list</th><th>k (players flagged)</th><th>precision at k [95%]</th></tr>\n");
        foreach (var p in r.WhalePrecisions)
        {
            html.Append(Invariant($"<tr><td>{Encode(p.Scorer)}</td><td>{p.K:N0}</td><td>{p.Estimate:P1} [{p.Lower:P1}, {p.Upper:P1}]</td></tr>\n"));
        }

        html.Append("</table>\n<h2>What drives the revenue model</h2>\n<table><tr><th>feature</th><th>mean |SHAP| ($)</th></tr>\n");
        foreach (var (feature, value) in r.RevenueImportance.Take(12))
        {
            html.Append(Invariant($"<tr><td>{Encode(feature)}</td><td>{value:F3}</td></tr>\n"));
        }

        return html.Append("</table>\n</body></html>\n").ToString();
    }

    private static string Table(PredictionComparison c)
    {
        var html = new StringBuilder("<table><tr><th>metric</th>");
        foreach (var m in c.Models)
        {
            html.Append("<th>").Append(Encode(m)).Append("</th>");
        }

        html.Append("<th>").Append(Encode($"{c.Models[0]} - {c.BestBaseline}")).Append("</th></tr>\n");
        for (var k = 0; k < c.Metrics.Count; k++)
        {
            html.Append("<tr><td>").Append(Encode(c.Metrics[k] + (c.HigherIsBetter[k] ? " ↑" : " ↓"))).Append("</td>");
            foreach (var v in c.Values)
            {
                html.Append("<td>").Append(v[k].ToString()).Append("</td>");
            }

            html.Append("<td>").Append(Commands.TrainModelOutput.Signed(c.Difference[k])).Append("</td></tr>\n");
        }

        return html.Append("</table>\n").ToString();
    }

    private static string Lift(double[] predicted, double[] actual, string name)
    {
        var bands = PredictionCurves.EqualCountBands(predicted, actual, 10);
        var total = actual.Sum();
        var html = new StringBuilder(Invariant($"<table><tr><th>{Encode(name)}: band</th><th>players</th><th>mean predicted</th><th>mean actual</th><th>share of revenue</th></tr>\n"));
        var i = 1;
        foreach (var b in bands.Reverse())
        {
            html.Append(Invariant($"<tr><td>{i++}</td><td>{b.Rows:N0}</td><td>{b.ScoreSum / b.Rows:F2}</td><td>{b.LabelSum / b.Rows:F2}</td><td>{(total > 0 ? b.LabelSum / total : 0):P1}</td></tr>\n"));
        }

        return html.Append("</table>\n").ToString();
    }

    private static Plot Cohorts(LtvResult r, LtvOptions options)
    {
        var plot = new Plot();
        var days = r.Cohorts.Select(c => (double)c.InstallDay).ToArray();
        foreach (var (name, values, color) in new[]
        {
            ("actual", r.Cohorts.Select(c => c.Actual).ToArray(), Colors.Black),
            ("model", r.Cohorts.Select(c => c.Model).ToArray(), Colors.SeaGreen),
            ("BI heuristic", r.Cohorts.Select(c => c.Heuristic).ToArray(), Colors.OrangeRed),
        })
        {
            var line = plot.Add.Scatter(days, values);
            line.LegendText = name;
            line.Color = color;
            line.LineWidth = 2;
            line.MarkerSize = 3;
        }

        var split = plot.Add.VerticalLine(options.TrainCohortsBefore - 0.5);
        split.Color = Colors.Gray;
        plot.XLabel("install day");
        plot.YLabel("mean 90-day revenue per player ($)");
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    private static Plot Scatter(LtvResult r)
    {
        var plot = new Plot();
        var take = PredictionCurves.Sample(r.ActualRevenue.Length, 5_000, seed: 1);
        foreach (var (name, predicted, color) in new[] { ("model", r.ModelRevenue, Colors.SeaGreen), ("BI heuristic", r.HeuristicRevenue, Colors.OrangeRed) })
        {
            var points = plot.Add.ScatterPoints(take.Select(i => Math.Log10(1 + Math.Max(0, r.ActualRevenue[i]))).ToArray(), take.Select(i => Math.Log10(1 + Math.Max(0, predicted[i]))).ToArray());
            points.LegendText = name;
            points.Color = color.WithAlpha(0.5);
            points.MarkerSize = 3;
        }

        var top = Math.Log10(1 + Math.Max(r.ActualRevenue.Max(), 1));
        var diagonal = plot.Add.Line(0, 0, top, top);
        diagonal.Color = Colors.Gray;
        plot.XLabel("actual: log10(1 + $)");
        plot.YLabel("predicted: log10(1 + $)");
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    private static string Svg(Plot plot) => InlineSvg.Of(plot, ChartWidth, ChartHeight);

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
