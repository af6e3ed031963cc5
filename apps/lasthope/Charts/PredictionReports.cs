using System.Globalization;
using Lasthope.Evaluation;
using Lasthope.Server.Predict;
using Lasthope.Training.Tabular;

namespace Lasthope.Cli.Charts;

/// <summary>The inputs of <see cref="PredictionHtml"/> for <c>train-model --html</c> and <c>score-batch --html</c>.</summary>
internal static class PredictionReports
{
    public static string Training(TabularTrainingReport report, string dataFile, DateTimeOffset generated)
    {
        ArgumentNullException.ThrowIfNull(report);
        var c = report.Comparison;
        var package = report.Package;
        var predictor = new Predictor(package, "candidate");
        var classes = package.Task == PredictionTask.Multiclass ? package.Classes.Count : 1;
        var (scores, predicted) = Top(report.TestPredictions[0].Predictions, classes);
        var metrics = c.Metrics.Select((m, k) => new MetricRow(
            m + (c.HigherIsBetter[k] ? " ↑" : " ↓"),
            [.. c.Values.Select(v => v[k].ToString()), TrainModelCommandSigned(c.Difference[k])])).ToList();
        var example = Example(predictor, report.TestFeatures, scores);
        return PredictionHtml.Render(new PredictionReportInput
        {
            Title = $"Predictor {package.Name} ({Task(package)}) trained on {Path.GetFileName(dataFile)}",
            Task = Task(package),
            ModelName = c.Models[0],
            Notes =
            [
                c.Verdict,
                string.Create(CultureInfo.InvariantCulture, $"{report.TrainRows:N0} rows trained on, {report.ValidationRows:N0} stopped the boosting early ({report.BestIteration} trees kept), {report.TestRows:N0} held out: every figure and chart is on the held-out rows, with 95% bootstrap intervals."),
                .. package.Task == PredictionTask.Binary
                    ? [string.Create(CultureInfo.InvariantCulture, $"Decision: {package.PositiveDecision} when P({package.Classes[1]}) >= {report.Threshold:0.####}, else {package.NegativeDecision}. Fallback: {package.Fallback.Kind}.")]
                    : Array.Empty<string>(),
            ],
            Metrics = metrics,
            MetricColumns = [.. c.Models, $"{c.Models[0]} - {c.BestBaseline}"],
            Scores = scores,
            Labels = report.TestLabels,
            PredictedClasses = predicted,
            ClassNames = package.Classes,
            Baselines = classes == 1 ? [.. report.TestPredictions.Skip(1).Select(m => (m.Name, m.Predictions))] : [],
            Importance = report.MeanAbsShap,
            Example = example,
            Threshold = package.Task == PredictionTask.Binary ? report.Threshold : null,
        }, generated);
    }

    public static string Batch(Predictor predictor, BatchManifest manifest, BatchSample sample, DateTimeOffset generated)
    {
        ArgumentNullException.ThrowIfNull(predictor);
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(sample);
        var classes = predictor.Package.Task == PredictionTask.Multiclass ? predictor.Package.Classes.Count : 1;
        var (scores, predicted) = Top(sample.Predictions, classes);
        var width = predictor.FeatureCount;
        var rows = sample.Features.Length / width;
        var importance = TabularTraining.MeanAbsShap(predictor, sample.Features, rows);
        return PredictionHtml.Render(new PredictionReportInput
        {
            Title = $"{manifest.Rows:N0} rows of {Path.GetFileName(manifest.Input)} scored by {manifest.Predictor} {manifest.Version}",
            Task = Task(predictor.Package),
            ModelName = predictor.Name,
            Notes =
            [
                string.Create(CultureInfo.InvariantCulture, $"Input SHA-256 {manifest.InputSha256}; model {manifest.ModelFingerprint}; {manifest.Seconds:F1} s ({manifest.RowsPerSecond:N0} rows/s)."),
                sample.Labels is null ? "No label column was given (--label): the charts show the scores only." : $"Outcomes from the column {sample.LabelColumn}.",
                .. sample.Truncated ? [$"The charts use the first {rows:N0} rows."] : Array.Empty<string>(),
            ],
            Scores = scores,
            Labels = sample.Labels,
            PredictedClasses = predicted,
            ClassNames = predictor.Package.Classes,
            Importance = importance,
            Example = Example(predictor, sample.Features, scores),
            Threshold = predictor.Package.Task == PredictionTask.Binary ? predictor.Package.Threshold : null,
        }, generated);
    }

    /// <summary>Binary and regression: the scores as they are; multiclass: the top class's probability and index.</summary>
    private static (double[] Scores, int[]? Predicted) Top(double[] predictions, int classes)
    {
        if (classes == 1)
        {
            return (predictions, null);
        }

        var rows = predictions.Length / classes;
        var scores = new double[rows];
        var predicted = new int[rows];
        for (var r = 0; r < rows; r++)
        {
            var row = predictions.AsSpan(r * classes, classes);
            var best = 0;
            for (var k = 1; k < classes; k++)
            {
                best = row[k] > row[best] ? k : best;
            }

            scores[r] = row[best];
            predicted[r] = best;
        }

        return (scores, predicted);
    }

    /// <summary>The highest-scored row's reasons: the applicant most likely refused, the most valuable player.</summary>
    private static ReasonRow? Example(Predictor predictor, double[] features, double[] scores)
    {
        if (scores.Length == 0)
        {
            return null;
        }

        var best = Array.IndexOf(scores, scores.Max());
        var width = predictor.FeatureCount;
        var prediction = predictor.Predict(features.AsSpan(best * width, width), PredictionSource.Model, width, counterfactual: false);
        return new ReasonRow($"held-out row {best + 1} (the highest score)", prediction.BaseValue, prediction.RawScore,
            [.. prediction.Reasons.Select(r => (r.Feature, r.Value, r.Contribution))]);
    }

    private static string Task(PredictorPackage package) => package.Task.ToString().ToLowerInvariant();

    private static string TrainModelCommandSigned(Interval d) => Commands.TrainModelOutput.Signed(d);
}
