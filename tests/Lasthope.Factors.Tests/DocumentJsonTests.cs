using System.Text.Json;
using Lasthope.Evaluation;
using Lasthope.Factors;

namespace Lasthope.Factors.Tests;

/// <summary>The JSON the CLI writes: names that scripts and tests read, and reports that read back.</summary>
public class DocumentJsonTests
{
    /// <summary>The parameters of a search trial, as <see cref="AlsTuning.Tune"/> names them.</summary>
    private static readonly Dictionary<string, double> TrialParameters = new() { ["regularization"] = 0.1f, ["alpha"] = 10, ["iterations"] = 6 };

    private static (RecsExperiment Experiment, AlsModel Model, RecsEvaluationReport Report) Evaluated()
    {
        var builder = new InteractionLogBuilder();
        for (var u = 0; u < 60; u++)
        {
            for (var i = u % 3; i < 30; i += 3)
            {
                builder.Add($"u{u}", $"i{i}");
            }
        }

        var experiment = RecsExperiment.Holdout(builder.Build(), "in.csv", new RecsSplitOptions());
        var model = RecsExperimentTests.Model(experiment.Train);
        var report = RecsEvaluation.Compare(
            experiment.Users, experiment.Recommender(model), new PopularityRecommender(PopularityModel.Build(experiment.Train)),
            new RecsEvaluationOptions { Ks = [5, 10], CatalogueSize = experiment.Train.Items.Count, Resamples = 50, Threads = 1 });
        return (experiment, model, report);
    }

    private static string[] Names(JsonElement element) => [.. element.EnumerateObject().Select(p => p.Name)];

    [Fact]
    public void RecsReport_HasTheNamesScriptsRead_InOrder_AndOmitsWhatDidNotApply()
    {
        var (experiment, model, report) = Evaluated();
        var json = RecsReportDocument.Create(experiment, model, report, null, TimeSpan.FromSeconds(1.234)).ToJson();
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal(
            ["protocol", "description", "split", "train", "evaluationUsers", "catalogueSize", "model", "baseline", "precisionDenominator", "level", "resamples", "metrics", "seconds"],
            Names(root));
        Assert.Equal(["input", "holdoutFraction", "minTrainItems", "seed"], Names(root.GetProperty("split")));
        Assert.Equal(["users", "items", "interactions"], Names(root.GetProperty("train")));
        Assert.Equal(["name", "version", "factors", "regularization", "alpha", "iterations", "cgSteps", "solver", "seed"], Names(root.GetProperty("model")));
        Assert.Equal("ConjugateGradient", root.GetProperty("model").GetProperty("solver").GetString());
        Assert.Equal("k", root.GetProperty("precisionDenominator").GetString());
        Assert.Equal(1.23, root.GetProperty("seconds").GetDouble());
        var metric = root.GetProperty("metrics")[0];
        Assert.Equal(["metric", "k", "als", "popular", "difference", "alsAbovePopular"], Names(metric));
        Assert.Equal(["estimate", "lower", "upper"], Names(metric.GetProperty("als")));
        Assert.Equal(report.Metrics[0].ModelAboveBaseline, metric.GetProperty("alsAbovePopular").GetBoolean());
        Assert.Contains("\n  \"protocol\": \"holdout\",", json, StringComparison.Ordinal);
    }

    [Fact]
    public void RecsReport_ReadsBack_ToTheSameJson_AndTypedIntervals()
    {
        var (experiment, model, report) = Evaluated();
        var search = new AlsTuningResult(
            model.Training.Options, 0.5, "ndcg@10", [new SearchTrial(0, TrialParameters, 0.5, TimeSpan.FromMilliseconds(12.3456)), new SearchTrial(1, TrialParameters, double.NaN, TimeSpan.Zero)],
            40, TimeSpan.FromSeconds(2), BudgetExhausted: false);
        var written = RecsReportDocument.Create(experiment, model, report, search, TimeSpan.FromSeconds(3));
        var json = written.ToJson();
        var read = RecsReportDocument.Parse(json);
        Assert.Equal(json, read.ToJson());
        Assert.Equal(written.Split, read.Split);
        Assert.Equal(written.Model, read.Model);
        var row = read.Metrics.Single(m => m.Metric == RecsMetrics.Ndcg && m.K == 10);
        var expected = report.Get(RecsMetrics.Ndcg, 10);
        Assert.Equal(RecsMetricRow.From(expected, "als", "popular"), row);
        Assert.Equal(written.Metrics, read.Metrics);
        Assert.Throws<JsonException>(() => RecsReportDocument.Parse(json.Replace("alsAbovePopular", "verdict", StringComparison.Ordinal)));

        using var doc = JsonDocument.Parse(json);
        var trials = doc.RootElement.GetProperty("search").GetProperty("trials");
        Assert.Equal(["regularization", "alpha", "iterations", "score", "seconds"], Names(trials[0]));
        Assert.Equal(0.012, trials[0].GetProperty("seconds").GetDouble());
        Assert.False(trials[1].TryGetProperty("score", out _));
        Assert.Equal(["objective", "validationUsers", "seconds", "budgetExhausted", "best", "trials"], Names(doc.RootElement.GetProperty("search")));
    }

    [Theory]
    [InlineData(0.281, 0.344, 0.236, 0.293, 0.0159, 0.0796, true)] // the trial's P@1: separate intervals overlap, paired above 0
    [InlineData(0.50, 0.60, 0.30, 0.40, -0.01, 0.30, false)] // separate intervals apart, paired interval holds 0
    public void RecsMetricRow_ItsVerdictIsThePairedInterval_NotTheOverlapOfTheSeparateOnes(
        double modelLower, double modelUpper, double baselineLower, double baselineUpper, double differenceLower, double differenceUpper, bool above)
    {
        var comparison = new MetricComparison(
            RecsMetrics.Precision, 1,
            new Interval((modelLower + modelUpper) / 2, modelLower, modelUpper, 0.95),
            new Interval((baselineLower + baselineUpper) / 2, baselineLower, baselineUpper, 0.95),
            new Interval((differenceLower + differenceUpper) / 2, differenceLower, differenceUpper, 0.95));
        var row = RecsMetricRow.From(comparison, "als", "popular");
        Assert.Equal(above, row.ModelAboveBaseline);
        Assert.NotEqual(modelLower > baselineUpper, above); // the old rule, the separate intervals apart, says the opposite
        var json = JsonSerializer.Serialize(row, RecsReportJsonContext.Default.RecsMetricRow);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(above, doc.RootElement.GetProperty("alsAbovePopular").GetBoolean());
    }

    [Fact]
    public void RecsMetricRow_NamesTheVerdictAfterModelAndBaseline()
        => Assert.Equal("alsAbovePopular", RecsMetricRow.VerdictName("als", "popular"));

    [Fact]
    public void AlsDocuments_KeepTheCommandsNames_OnOneLine()
    {
        var (_, model, _) = Evaluated();
        var user = model.Users[0];
        var result = AlsRecommendations.ForUser(model, AlsRecommendations.Popularity(model), user, 3, [], true, []);
        var recommendation = UserRecommendationsDocument.From(result, model.Version).ToJson();
        Assert.DoesNotContain('\n', recommendation);
        using (var doc = JsonDocument.Parse(recommendation))
        {
            Assert.Equal(["user", "modelVersion", "foldedIn", "items"], Names(doc.RootElement));
            Assert.Equal(["id", "rank", "score", "source", "propensity"], Names(doc.RootElement.GetProperty("items")[0]));
            Assert.Equal([1, 2, 3], doc.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("rank").GetInt32()));
        }

        var similar = SimilarItemsDocument.From("i0", model.Version, model.Similar("i0", 2)).ToJson();
        Assert.StartsWith("{\"item\":\"i0\",\"modelVersion\":", similar, StringComparison.Ordinal);
        Assert.Contains("\"source\":\"als\"", similar, StringComparison.Ordinal);

        Assert.Equal(
            "{\"factors\":4,\"regularization\":0.01,\"alpha\":10,\"iterations\":2,\"cgSteps\":3,\"seed\":42,\"chosenBy\":\"given\"}",
            AlsParametersDocument.From(model, null).ToJson());

        var summary = AlsModelDocument.From(model, "m.lhals", TimeSpan.FromSeconds(0.12345), null) with { FinalLoss = null };
        using (var doc = JsonDocument.Parse(summary.ToJson()))
        {
            Assert.Equal(["model", "version", "users", "items", "factors", "regularization", "alpha", "iterations", "cgSteps", "seed", "chosenBy", "seconds"], Names(doc.RootElement));
            Assert.Equal(0.123, doc.RootElement.GetProperty("seconds").GetDouble());
        }

        var tuning = new AlsTuningResult(model.Training.Options, 0.25, "ndcg@10", [], 40, TimeSpan.FromSeconds(1.5), BudgetExhausted: true);
        Assert.Equal(
            "{\"objective\":\"ndcg@10\",\"score\":0.25,\"validationUsers\":40,\"trials\":0,\"seconds\":1.5,\"budgetExhausted\":true}",
            AlsValidationDocument.From(tuning).ToJson());
        using (var doc = JsonDocument.Parse(AlsModelDocument.From(model, "m.lhals", TimeSpan.Zero, tuning).ToJson()))
        {
            Assert.Equal("search", doc.RootElement.GetProperty("chosenBy").GetString());
            Assert.True(doc.RootElement.GetProperty("search").GetProperty("budgetExhausted").GetBoolean());
        }
    }

}
