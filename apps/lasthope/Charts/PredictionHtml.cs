using System.Globalization;
using System.Net;
using System.Text;
using ScottPlot;

namespace Lasthope.Cli.Charts;

/// <summary>What <see cref="PredictionHtml"/> draws: a tabular model's scores on a set of rows, with what is known about them.</summary>
internal sealed record PredictionReportInput
{
    /// <summary>The page's heading, e.g. "Model credit-20261203-ab12cd34 on german.csv".</summary>
    public required string Title { get; init; }

    /// <summary>"binary", "regression" or "multiclass".</summary>
    public required string Task { get; init; }

    /// <summary>The model's name in legends (the first of <see cref="MetricColumns"/>, usually).</summary>
    public string ModelName { get; init; } = "model";

    /// <summary>Paragraphs of plain text (verdict, data, command), in order.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>The metrics table: a metric's name, then one cell per column of <see cref="MetricColumns"/>.</summary>
    public IReadOnlyList<MetricRow> Metrics { get; init; } = [];

    /// <summary>The metrics table's column headings after "metric", e.g. ["GBDT", "logistic", "prior", "GBDT - best baseline"].</summary>
    public IReadOnlyList<string> MetricColumns { get; init; } = [];

    /// <summary>One per row. Binary: P(positive); regression: the predicted value; multiclass: P(predicted class).</summary>
    public required double[] Scores { get; init; }

    /// <summary>
    /// One per row, or null when unknown (a batch without labels). Binary 0 or 1; regression the actual value;
    /// multiclass the actual class index. A row whose score or label is not finite is left out of every chart.
    /// </summary>
    public double[]? Labels { get; init; }

    /// <summary>Multiclass: the predicted class index per row (the confusion matrix needs it and <see cref="Labels"/>).</summary>
    public int[]? PredictedClasses { get; init; }

    /// <summary>Multiclass: the class names by index; a missing name shows as its index.</summary>
    public IReadOnlyList<string> ClassNames { get; init; } = [];

    /// <summary>Other predictors' scores on the same rows, drawn beside the model on ROC, calibration and predicted against actual.</summary>
    public IReadOnlyList<(string Name, double[] Scores)> Baselines { get; init; } = [];

    /// <summary>Mean |SHAP| per feature, in any order; the 20 largest are drawn.</summary>
    public IReadOnlyList<(string Feature, double MeanAbsShap)> Importance { get; init; } = [];

    /// <summary>One row's explanation.</summary>
    public ReasonRow? Example { get; init; }

    /// <summary>Binary: the decision threshold on P(positive), drawn on the score distribution.</summary>
    public double? Threshold { get; init; }

    /// <summary>Further tables after the task's charts (a text model's per-class precision and recall).</summary>
    public IReadOnlyList<HtmlTable> Tables { get; init; } = [];
}

/// <summary>A table of plain cells under its heading, with an optional note.</summary>
internal sealed record HtmlTable(string Heading, string? Note, IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string>> Rows);

/// <summary>A row of the metrics table: the metric's name and one cell per metric column.</summary>
internal sealed record MetricRow(string Metric, IReadOnlyList<string> Cells);

/// <summary>
/// One row's explanation on the model's raw (margin) scale: <paramref name="RawScore"/> is
/// <paramref name="BaseValue"/> plus the sum of the contributions (SHAP values).
/// </summary>
internal sealed record ReasonRow(string RowLabel, double BaseValue, double RawScore, IReadOnlyList<(string Feature, string Value, double Contribution)> Contributions);

/// <summary>
/// The HTML report of a tabular model (<c>train-model --html</c>, <c>score-batch --html</c>): one self-contained page
/// (inline SVG charts drawn by ScottPlot, inline CSS, no script, nothing fetched), as <see cref="ExperimentHtml"/> is.
/// It holds the notes and metrics, then what the task and the labels allow: for a binary model the ROC and
/// calibration curves, the score distribution by class and the score bands; for a regression predicted against
/// actual and the deciles; for a multiclass model the confusion matrix and the confidence distribution; then the
/// feature importance and one row's reasons. Its size does not grow with the rows: histograms are counts, curves are
/// thinned, at most 5,000 points are drawn, so a million rows still make a page of a few hundred kilobytes.
/// </summary>
internal static class PredictionHtml
{
    private const int ChartWidth = 760, ChartHeight = 320, SquareSize = 400;
    private const int Bins = 30, Bands = 10, MaxPoints = 5_000, MaxRocPoints = 400, MaxFeatures = 20, MaxReasons = 12, MaxReasonRows = 100, MaxClasses = 25;
    private const int SampleSeed = 20_261_203;

    private static readonly Color Negative = Colors.SteelBlue, Positive = Colors.OrangeRed;
    private static readonly Color Raises = Color.FromHex("#c0392b"), Lowers = Color.FromHex("#1e8449");

    /// <summary>
    /// The page for <paramref name="input"/>, stamped with <paramref name="generated"/> (shown in UTC). Throws
    /// <see cref="ArgumentException"/> for an unknown task, arrays of different lengths, binary labels other than 0
    /// and 1, or multiclass labels that are not class indices.
    /// </summary>
    public static string Render(PredictionReportInput input, DateTimeOffset generated)
    {
        ArgumentNullException.ThrowIfNull(input);
        var rows = RowSet.Of(input);
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<title>").Append(Encode(input.Title)).Append("</title>")
            .Append("<style>body{font-family:system-ui,sans-serif;max-width:820px;margin:2em auto;color:#222}")
            .Append("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}")
            .Append("td:first-child,th:first-child{text-align:left}.pair{display:flex;flex-wrap:wrap;gap:8px}.muted{color:#666}")
            .Append(".raises{color:#c0392b}.lowers{color:#1e8449}</style></head><body>\n")
            .Append("<h1>").Append(Encode(input.Title)).Append("</h1>\n")
            .Append(Invariant($"<p class=\"muted\">{Encode(rows.Task)} model, {rows.Scores.Length:N0} rows{(rows.Labels is null ? " without labels" : "")}. Generated {generated.ToUniversalTime():yyyy-MM-dd HH:mm} UTC.</p>\n"));
        if (rows.Dropped > 0)
        {
            html.Append(Invariant($"<p class=\"muted\">{rows.Dropped:N0} rows with a missing score or label are left out of the charts and tables.</p>\n"));
        }

        foreach (var note in input.Notes)
        {
            html.Append("<p>").Append(Encode(note)).Append("</p>\n");
        }

        MetricsTable(html, input);
        switch (rows.Task)
        {
            case var _ when rows.Scores.Length == 0:
                html.Append("<p>No row has a score: there is nothing to draw.</p>\n");
                break;
            case "binary":
                Binary(html, rows, input.Threshold);
                break;
            case "regression":
                Regression(html, rows);
                break;
            default:
                Multiclass(html, rows, input.ClassNames);
                break;
        }

        foreach (var table in input.Tables)
        {
            PlainTable(html, table);
        }

        Importance(html, input.Importance);
        Reasons(html, input.Example);
        html.Append("</body></html>\n");
        return html.ToString();
    }

    private static void MetricsTable(StringBuilder html, PredictionReportInput input)
    {
        if (input.Metrics.Count == 0)
        {
            return;
        }

        var columns = Math.Max(input.MetricColumns.Count, input.Metrics.Max(m => m.Cells.Count));
        html.Append("<h2>Metrics</h2>\n<table><tr><th>metric</th>");
        for (var c = 0; c < columns; c++)
        {
            html.Append("<th>").Append(Encode(c < input.MetricColumns.Count ? input.MetricColumns[c] : "")).Append("</th>");
        }

        html.Append("</tr>\n");
        foreach (var row in input.Metrics)
        {
            html.Append("<tr><td>").Append(Encode(row.Metric)).Append("</td>");
            for (var c = 0; c < columns; c++)
            {
                html.Append("<td>").Append(Encode(c < row.Cells.Count ? row.Cells[c] : "")).Append("</td>");
            }

            html.Append("</tr>\n");
        }

        html.Append("</table>\n");
    }

    private static void PlainTable(StringBuilder html, HtmlTable table)
    {
        html.Append("<h2>").Append(Encode(table.Heading)).Append("</h2>\n");
        if (table.Note is { } note)
        {
            html.Append("<p class=\"muted\">").Append(Encode(note)).Append("</p>\n");
        }

        html.Append("<table><tr>");
        foreach (var column in table.Columns)
        {
            html.Append("<th>").Append(Encode(column)).Append("</th>");
        }

        html.Append("</tr>\n");
        foreach (var row in table.Rows)
        {
            html.Append("<tr>");
            foreach (var cell in row)
            {
                html.Append("<td>").Append(Encode(cell)).Append("</td>");
            }

            html.Append("</tr>\n");
        }

        html.Append("</table>\n");
    }

    private static void Binary(StringBuilder html, RowSet rows, double? threshold)
    {
        if (rows.Labels is not { } labels)
        {
            html.Append("<h2>Score distribution</h2>\n")
                .Append(Svg(Distribution([("all rows", rows.Scores, Negative)], 0, 1, threshold, "P(positive)", "rows (%)"), ChartWidth, ChartHeight));
            BandsTable(html, PredictionCurves.EqualCountBands(rows.Scores, [], Bands), null);
            return;
        }

        var positives = labels.Count(l => l > 0.5);
        if (positives > 0 && positives < labels.Length)
        {
            html.Append("<h2>ROC and calibration</h2>\n<div class=\"pair\">")
                .Append(Svg(RocPlot(rows), SquareSize, SquareSize))
                .Append(Svg(CalibrationPlot(rows), SquareSize, SquareSize))
                .Append("</div>\n<p class=\"muted\">Calibration: 10 equal-count bins by predicted probability, each bin's mean prediction against its observed rate.</p>\n");
        }
        else
        {
            html.Append("<p>Every labelled row is of one class: there is no ROC or calibration curve to draw.</p>\n");
        }

        var negativeScores = rows.Scores.Where((_, i) => labels[i] <= 0.5).ToArray();
        var positiveScores = rows.Scores.Where((_, i) => labels[i] > 0.5).ToArray();
        html.Append("<h2>Score distribution by class</h2>\n")
            .Append(Svg(Distribution([("negative", negativeScores, Negative), ("positive", positiveScores, Positive)], 0, 1, threshold, "P(positive)", "rows of the class (%)"), ChartWidth, ChartHeight));
        BandsTable(html, PredictionCurves.EqualCountBands(rows.Scores, labels, Bands), positives);
    }

    private static Plot RocPlot(RowSet rows)
    {
        var plot = new Plot();
        Diagonal(plot, 0, 1);
        var series = rows.Series();
        for (var s = 0; s < series.Count; s++)
        {
            var roc = PredictionCurves.Roc(series[s].Scores, rows.Labels);
            var (xs, ys) = Thin(roc.FalsePositiveRates, roc.TruePositiveRates, MaxRocPoints);
            var line = plot.Add.ScatterLine(xs, ys);
            line.Color = SeriesColor(s);
            line.LineWidth = s == 0 ? 2.5f : 1.5f;
            line.LegendText = Invariant($"{Label(series[s].Name)} (AUC {roc.Auc:F3})");
        }

        plot.Axes.SetLimits(0, 1, 0, 1);
        plot.Title("ROC");
        plot.XLabel("false positive rate");
        plot.YLabel("true positive rate");
        plot.ShowLegend(Alignment.LowerRight);
        return plot;
    }

    private static Plot CalibrationPlot(RowSet rows)
    {
        var plot = new Plot();
        Diagonal(plot, 0, 1);
        var series = rows.Series();
        for (var s = 0; s < series.Count; s++)
        {
            var bins = PredictionCurves.CalibrationBins(series[s].Scores, rows.Labels, Bands);
            var line = plot.Add.Scatter(bins.Select(b => b.MeanPredicted).ToArray(), bins.Select(b => b.ObservedRate).ToArray());
            line.Color = SeriesColor(s);
            line.LineWidth = s == 0 ? 2.5f : 1.5f;
            line.MarkerSize = 6;
            line.LegendText = Label(series[s].Name);
        }

        plot.Axes.SetLimits(0, 1, 0, 1);
        plot.Title("Calibration");
        plot.XLabel("mean predicted probability");
        plot.YLabel("observed rate");
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    /// <summary>The bands from the highest scores down; with <paramref name="positives"/>, their rates and the capture of positives.</summary>
    private static void BandsTable(StringBuilder html, IReadOnlyList<ScoreBand> bands, int? positives)
    {
        html.Append("<h2>Score bands</h2>\n<p class=\"muted\">10 equal-count bands by score, the highest first (tied scores share a band).</p>\n<table><tr><th>band</th><th>scores</th><th>rows</th>");
        if (positives is not null)
        {
            html.Append("<th>positives</th><th>observed rate</th><th>lift</th><th>capture rate</th>");
        }

        html.Append("</tr>\n");
        var rowCount = bands.Sum(b => b.Rows);
        var overall = positives is { } p && rowCount > 0 ? (double)p / rowCount : double.NaN;
        double captured = 0;
        for (var b = bands.Count - 1; b >= 0; b--)
        {
            var band = bands[b];
            html.Append(Invariant($"<tr><td>{bands.Count - b}</td><td>{band.Low:F4} – {band.High:F4}</td><td>{band.Rows:N0}</td>"));
            if (positives is { } total)
            {
                captured += band.LabelSum;
                html.Append(Invariant($"<td>{band.LabelSum:N0}</td><td>{Percent(band.MeanLabel)}</td><td>{Number(band.MeanLabel / overall, "F2")}</td><td>{Percent(total == 0 ? double.NaN : captured / total)}</td>"));
            }

            html.Append("</tr>\n");
        }

        html.Append("</table>\n");
    }

    private static void Regression(StringBuilder html, RowSet rows)
    {
        if (rows.Labels is not { } actual)
        {
            html.Append("<h2>Distribution of predictions</h2>\n").Append(Svg(ValueDistribution(rows.Scores, "predicted value"), ChartWidth, ChartHeight));
            return;
        }

        var series = rows.Series();
        var log = PredictionCurves.SpansDecades([actual, .. series.Select(s => s.Scores)]);
        var sample = PredictionCurves.Sample(actual.Length, MaxPoints, SampleSeed);
        html.Append("<h2>Predicted against actual</h2>\n")
            .Append(Svg(PredictedAgainstActual(rows, series, sample, log), ChartWidth, (int)(ChartHeight * 1.5)))
            .Append(Invariant($"<p class=\"muted\">Points: {Encode(rows.ModelName)} on {(sample.Length == actual.Length ? "every row" : $"{sample.Length:N0} rows drawn at random (fixed seed) of {actual.Length:N0}")}. Lines: mean actual against mean prediction in 10 equal-count bands of each predictor's prediction. {(log ? "Log-log axes: every value is positive and they span more than two decades." : "Linear axes.")}</p>\n"));

        var bands = PredictionCurves.EqualCountBands(rows.Scores, actual, Bands);
        var total = actual.Sum();
        html.Append("<h2>Deciles of the prediction</h2>\n<p class=\"muted\">10 equal-count bands by predicted value, the highest first (tied predictions share a band).</p>\n")
            .Append("<table><tr><th>band</th><th>predicted</th><th>rows</th><th>mean predicted</th><th>mean actual</th><th>share of total actual</th><th>cumulative share</th></tr>\n");
        double cumulative = 0;
        for (var b = bands.Count - 1; b >= 0; b--)
        {
            var band = bands[b];
            cumulative += band.LabelSum;
            html.Append(Invariant($"<tr><td>{bands.Count - b}</td><td>{Value(band.Low)} – {Value(band.High)}</td><td>{band.Rows:N0}</td><td>{Value(band.MeanScore)}</td><td>{Value(band.MeanLabel)}</td><td>{Percent(total == 0 ? double.NaN : band.LabelSum / total)}</td><td>{Percent(total == 0 ? double.NaN : cumulative / total)}</td></tr>\n"));
        }

        html.Append("</table>\n");
    }

    private static Plot PredictedAgainstActual(RowSet rows, IReadOnlyList<(string Name, double[] Scores)> series, int[] sample, bool log)
    {
        var actual = rows.Labels!;
        double Axis(double v) => log ? Math.Log10(v) : v;
        var plot = new Plot();
        var min = Math.Min(actual.Min(), series.Min(s => s.Scores.Min()));
        var max = Math.Max(actual.Max(), series.Max(s => s.Scores.Max()));
        Diagonal(plot, Axis(min), Axis(max));

        var points = plot.Add.ScatterPoints(sample.Select(i => Axis(actual[i])).ToArray(), sample.Select(i => Axis(rows.Scores[i])).ToArray());
        points.Color = SeriesColor(0).WithAlpha(0.35);
        points.MarkerSize = 3;
        points.LegendText = Label(rows.ModelName);
        for (var s = 0; s < series.Count; s++)
        {
            var bands = PredictionCurves.EqualCountBands(series[s].Scores, actual, Bands);
            var line = plot.Add.Scatter(bands.Select(b => Axis(b.MeanLabel)).ToArray(), bands.Select(b => Axis(b.MeanScore)).ToArray());
            line.Color = SeriesColor(s);
            line.LineWidth = s == 0 ? 2.5f : 1.5f;
            line.MarkerSize = 6;
            line.LegendText = Label(series[s].Name) + " by decile";
        }

        if (log)
        {
            LogTicks(plot.Axes.Bottom);
            LogTicks(plot.Axes.Left);
        }

        plot.XLabel("actual");
        plot.YLabel("predicted");
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    private static void Multiclass(StringBuilder html, RowSet rows, IReadOnlyList<string> names)
    {
        var labels = rows.Labels;
        var predicted = rows.Predicted;
        if (labels is not null && predicted is not null)
        {
            ConfusionTable(html, labels, predicted, names);
            var correct = rows.Scores.Where((_, i) => predicted[i] == (int)labels[i]).ToArray();
            var wrong = rows.Scores.Where((_, i) => predicted[i] != (int)labels[i]).ToArray();
            html.Append("<h2>Probability of the predicted class</h2>\n")
                .Append(Svg(Distribution([("wrong", wrong, Positive), ("right", correct, Negative)], 0, 1, null, "P(predicted class)", "rows of the group (%)"), ChartWidth, ChartHeight));
            return;
        }

        if (labels is not null)
        {
            html.Append("<p class=\"muted\">No predicted classes were given: there is no confusion matrix.</p>\n");
        }

        html.Append("<h2>Probability of the predicted class</h2>\n")
            .Append(Svg(Distribution([("all rows", rows.Scores, Negative)], 0, 1, null, "P(predicted class)", "rows (%)"), ChartWidth, ChartHeight));
    }

    /// <summary>
    /// Actual classes by row, predicted by column. More than <see cref="MaxClasses"/> classes: the most frequent keep
    /// their own row and column, the rest are counted together as "other classes".
    /// </summary>
    private static void ConfusionTable(StringBuilder html, double[] labels, int[] predicted, IReadOnlyList<string> names)
    {
        var classes = Math.Max(names.Count, Math.Max(labels.Length == 0 ? 0 : (int)labels.Max(), predicted.Length == 0 ? 0 : predicted.Max()) + 1);
        var frequency = new long[classes];
        for (var i = 0; i < labels.Length; i++)
        {
            frequency[(int)labels[i]]++;
            frequency[predicted[i]]++;
        }

        var kept = classes <= MaxClasses
            ? [.. Enumerable.Range(0, classes)]
            : Enumerable.Range(0, classes).OrderByDescending(c => frequency[c]).ThenBy(c => c).Take(MaxClasses - 1).Order().ToArray();
        var other = kept.Length < classes;
        var size = kept.Length + (other ? 1 : 0);
        var slot = Enumerable.Repeat(kept.Length, classes).ToArray();
        for (var k = 0; k < kept.Length; k++)
        {
            slot[kept[k]] = k;
        }

        var counts = new long[size, size];
        var right = 0L;
        for (var i = 0; i < labels.Length; i++)
        {
            counts[slot[(int)labels[i]], slot[predicted[i]]]++;
            right += (int)labels[i] == predicted[i] ? 1 : 0;
        }

        string Name(int k) => k == kept.Length ? "other classes" : kept[k] < names.Count ? names[kept[k]] : kept[k].ToString(CultureInfo.InvariantCulture);
        html.Append("<h2>Confusion matrix</h2>\n")
            .Append(Invariant($"<p>Accuracy {Percent(labels.Length == 0 ? double.NaN : (double)right / labels.Length)} of {labels.Length:N0} rows. Rows: the actual class; columns: the predicted class; shading: the share of the actual class.{(other ? $" The {MaxClasses - 1} most frequent of {classes} classes are shown on their own." : "")}</p>\n"))
            .Append("<table><tr><th>actual \\ predicted</th>");
        for (var k = 0; k < size; k++)
        {
            html.Append("<th>").Append(Encode(Name(k))).Append("</th>");
        }

        html.Append("<th>rows</th><th>recall</th></tr>\n");
        for (var a = 0; a < size; a++)
        {
            long total = 0;
            for (var p = 0; p < size; p++)
            {
                total += counts[a, p];
            }

            html.Append("<tr><th>").Append(Encode(Name(a))).Append("</th>");
            for (var p = 0; p < size; p++)
            {
                var share = total == 0 ? 0 : (double)counts[a, p] / total;
                html.Append(Invariant($"<td style=\"background:rgba(70,130,180,{share * 0.8:F2})\">{counts[a, p]:N0}</td>"));
            }

            var recall = a == kept.Length || total == 0 ? "-" : Percent((double)counts[a, a] / total);
            html.Append(Invariant($"<td>{total:N0}</td><td>{recall}</td></tr>\n"));
        }

        html.Append("</table>\n");
    }

    private static void Importance(StringBuilder html, IReadOnlyList<(string Feature, double MeanAbsShap)> importance)
    {
        var top = importance.Where(f => double.IsFinite(f.MeanAbsShap)).OrderByDescending(f => f.MeanAbsShap).Take(MaxFeatures).ToArray();
        if (top.Length == 0)
        {
            return;
        }

        var plot = new Plot();
        var bars = top.Select((f, i) => new Bar { Position = top.Length - 1 - i, Value = f.MeanAbsShap, FillColor = SeriesColor(0), LineWidth = 0 }).ToList();
        var barPlot = plot.Add.Bars(bars);
        barPlot.Horizontal = true;
        FeatureTicks(plot, top.Select(f => f.Feature).ToArray());
        plot.Axes.SetLimitsX(0, top[0].MeanAbsShap * 1.05);
        plot.XLabel("mean |SHAP| (raw score)");
        html.Append("<h2>Feature importance</h2>\n")
            .Append(Invariant($"<p class=\"muted\">Mean absolute SHAP value per feature, the {top.Length} largest of {importance.Count}.</p>\n"))
            .Append(Svg(plot, ChartWidth, BarChartHeight(top.Length)));
    }

    private static void Reasons(StringBuilder html, ReasonRow? example)
    {
        if (example is null)
        {
            return;
        }

        var sorted = example.Contributions.OrderByDescending(c => Math.Abs(c.Contribution)).ThenBy(c => c.Feature, StringComparer.Ordinal).ToArray();
        var shown = sorted.Take(MaxReasons).Select(c => (c.Feature, c.Contribution)).ToList();
        if (sorted.Length > MaxReasons)
        {
            shown.Add(($"other features ({sorted.Length - MaxReasons})", sorted.Skip(MaxReasons).Sum(c => c.Contribution)));
        }

        var sum = sorted.Sum(c => c.Contribution);
        html.Append("<h2>Reasons for one row</h2>\n")
            .Append(Invariant($"<p>{Encode(example.RowLabel)}: base value {Value(example.BaseValue)} (the model's average raw score) plus the contributions ({sum:+0.####;-0.####;0}) makes the raw score {Value(example.RawScore)}. <span class=\"raises\">Red raises</span> the score, <span class=\"lowers\">green lowers</span> it.</p>\n"));
        if (shown.Count > 0)
        {
            var plot = new Plot();
            var bars = shown.Select((c, i) => new Bar { Position = shown.Count - 1 - i, Value = c.Contribution, FillColor = c.Contribution >= 0 ? Raises : Lowers, LineWidth = 0 }).ToList();
            var barPlot = plot.Add.Bars(bars);
            barPlot.Horizontal = true;
            plot.Add.VerticalLine(0, 1, Colors.Gray);
            FeatureTicks(plot, shown.Select(c => c.Feature).ToArray());
            plot.XLabel("contribution to the raw score (red raises, green lowers)");
            html.Append(Svg(plot, ChartWidth, BarChartHeight(shown.Count)));
        }

        html.Append("<table><tr><th>feature</th><th>value</th><th>contribution</th></tr>\n");
        foreach (var (feature, value, contribution) in sorted.Take(MaxReasonRows))
        {
            html.Append(Invariant($"<tr><td>{Encode(feature)}</td><td>{Encode(value)}</td><td class=\"{(contribution >= 0 ? "raises" : "lowers")}\">{contribution:+0.0000;-0.0000;0}</td></tr>\n"));
        }

        if (sorted.Length > MaxReasonRows)
        {
            var rest = sorted.Skip(MaxReasonRows).Sum(c => c.Contribution);
            html.Append(Invariant($"<tr><td>{sorted.Length - MaxReasonRows} other features</td><td></td><td>{rest:+0.0000;-0.0000;0}</td></tr>\n"));
        }

        html.Append("</table>\n");
    }

    /// <summary>Overlaid histograms on [<paramref name="low"/>, <paramref name="high"/>], each as the share of its group's rows.</summary>
    private static Plot Distribution(IReadOnlyList<(string Name, double[] Values, Color Color)> groups, double low, double high, double? threshold, string xLabel, string yLabel)
    {
        var plot = new Plot();
        var width = (high - low) / Bins;
        var top = 0.0;
        foreach (var (name, values, color) in groups)
        {
            if (values.Length == 0)
            {
                continue;
            }

            var counts = PredictionCurves.Histogram(values, Bins, low, high);
            var bars = counts.Select((c, b) => new Bar { Position = low + (b + 0.5) * width, Value = 100.0 * c / values.Length, Size = width, FillColor = color.WithAlpha(groups.Count > 1 ? 0.5 : 0.8), LineWidth = 0 }).ToList();
            top = Math.Max(top, bars.Max(b => b.Value));
            plot.Add.Bars(bars);
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = Invariant($"{name} ({values.Length:N0})"), FillColor = color.WithAlpha(0.6) });
        }

        if (threshold is { } t && double.IsFinite(t))
        {
            var line = plot.Add.VerticalLine(t, 2, Colors.Black);
            line.ExcludeFromLegend = true;
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = Invariant($"threshold {t:G3}"), LineColor = Colors.Black, LineWidth = 2 });
        }

        // Room above the tallest bar for the legend.
        plot.Axes.SetLimits(low, high, 0, top > 0 ? top * 1.3 : 1);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.UpperCenter);
        return plot;
    }

    /// <summary>A histogram of any values: on a log axis when they are positive and span more than two decades.</summary>
    private static Plot ValueDistribution(double[] values, string xLabel)
    {
        if (values.Length == 0)
        {
            return Distribution([], 0, 1, null, xLabel, "rows (%)");
        }

        var log = PredictionCurves.SpansDecades(values);
        var axis = log ? values.Select(Math.Log10).ToArray() : values;
        var low = axis.Min();
        var high = axis.Max();
        if (!(high > low))
        {
            (low, high) = (low - 0.5, high + 0.5);
        }

        var plot = Distribution([("all rows", axis, Negative)], low, high, null, xLabel + (log ? " (log scale)" : ""), "rows (%)");
        if (log)
        {
            LogTicks(plot.Axes.Bottom);
        }

        return plot;
    }

    private static void Diagonal(Plot plot, double from, double to)
    {
        var line = plot.Add.Line(from, from, to, to);
        // Solid: ScottPlot's SVG canvas cannot draw a dash pattern (it draws the line solid and complains on stderr).
        line.LineColor = Colors.Gray.WithAlpha(0.7);
        line.LineWidth = 1;
    }

    /// <summary>Axis values are log10 of the data: ticks at the decades, labelled with the data's values.</summary>
    private static void LogTicks(IAxis axis) =>
        axis.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = v => Value(Math.Pow(10, v)),
        };

    private static void FeatureTicks(Plot plot, string[] features)
    {
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. Enumerable.Range(0, features.Length).Select(i => (double)(features.Length - 1 - i))], [.. features.Select(Label)]);
        plot.Axes.SetLimitsY(-0.6, features.Length - 0.4);
    }

    private static int BarChartHeight(int bars) => 80 + 24 * Math.Max(bars, 3);

    /// <summary>
    /// Thins a monotone curve for drawing: a point is kept when it has moved at least 1/<paramref name="points"/> (in
    /// x plus y) from the last kept one; the first and last are always kept.
    /// </summary>
    private static (double[] Xs, double[] Ys) Thin(double[] xs, double[] ys, int points)
    {
        var step = 1.0 / points;
        var keptX = new List<double> { xs[0] };
        var keptY = new List<double> { ys[0] };
        for (var i = 1; i < xs.Length; i++)
        {
            if (i == xs.Length - 1 || Math.Abs(xs[i] - keptX[^1]) + Math.Abs(ys[i] - keptY[^1]) >= step)
            {
                keptX.Add(xs[i]);
                keptY.Add(ys[i]);
            }
        }

        return ([.. keptX], [.. keptY]);
    }

    private static Color SeriesColor(int series) => new ScottPlot.Palettes.Category10().GetColor(series);

    /// <summary>Text drawn inside a chart: short enough for an axis or a legend.</summary>
    private static string Label(string text) => text.Length <= 40 ? text : text[..39] + "…";

    private static string Svg(Plot plot, int width, int height) => InlineSvg.Of(plot, width, height);

    /// <summary>Four significant digits, without an exponent up to a thousand billion.</summary>
    private static string Value(double value) =>
        Math.Abs(value) is >= 10_000 and < 1e15 ? value.ToString("N0", CultureInfo.InvariantCulture) : value.ToString("G4", CultureInfo.InvariantCulture);

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private static string Percent(double share) => double.IsFinite(share) ? (share * 100).ToString("F1", CultureInfo.InvariantCulture) + "%" : "-";

    private static string Number(double value, string format) => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "-";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>The input checked (one length, a known task, labels of the task's kind) and its rows with a missing value left out.</summary>
    private sealed record RowSet(string Task, string ModelName, double[] Scores, double[]? Labels, int[]? Predicted, (string Name, double[] Scores)[] Baselines, int Dropped)
    {
        public IReadOnlyList<(string Name, double[] Scores)> Series() => [(ModelName, Scores), .. Baselines];

        public static RowSet Of(PredictionReportInput input)
        {
            var task = input.Task.Trim().ToLowerInvariant();
            if (task is not ("binary" or "regression" or "multiclass"))
            {
                throw new ArgumentException($"Task must be binary, regression or multiclass, not '{input.Task}'.", nameof(input));
            }

            var n = input.Scores.Length;
            void Check(int length, string what)
            {
                if (length != n)
                {
                    throw new ArgumentException($"{n} scores but {length} {what}.", nameof(input));
                }
            }

            if (input.Labels is { } l)
            {
                Check(l.Length, "labels");
            }

            var predicted = task == "multiclass" ? input.PredictedClasses : null;
            if (predicted is not null)
            {
                Check(predicted.Length, "predicted classes");
                if (predicted.Any(p => p < 0))
                {
                    throw new ArgumentException("A predicted class index is negative.", nameof(input));
                }
            }

            foreach (var (name, scores) in input.Baselines)
            {
                Check(scores.Length, $"scores of baseline '{name}'");
            }

            var keep = new bool[n];
            var kept = 0;
            for (var i = 0; i < n; i++)
            {
                var ok = double.IsFinite(input.Scores[i]) && (input.Labels is null || double.IsFinite(input.Labels[i]));
                foreach (var (_, scores) in input.Baselines)
                {
                    ok &= double.IsFinite(scores[i]);
                }

                keep[i] = ok;
                kept += ok ? 1 : 0;
            }

            T[] Filter<T>(T[] values) => kept == n ? values : [.. values.Where((_, i) => keep[i])];
            var labels = input.Labels is null ? null : Filter(input.Labels);
            if (labels is not null && task == "binary" && labels.Any(v => v is not (0 or 1)))
            {
                throw new ArgumentException("Binary labels must be 0 or 1.", nameof(input));
            }

            if (labels is not null && task == "multiclass" && labels.Any(v => v < 0 || v != Math.Floor(v) || v > int.MaxValue))
            {
                throw new ArgumentException("Multiclass labels must be class indices (whole numbers from 0).", nameof(input));
            }

            return new RowSet(
                task, input.ModelName, Filter(input.Scores), labels, predicted is null ? null : Filter(predicted),
                [.. input.Baselines.Select(b => (b.Name, Filter(b.Scores)))], n - kept);
        }
    }
}
