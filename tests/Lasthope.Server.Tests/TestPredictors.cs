using Lasthope.Server.Predict;
using Lasthope.Trees.Native;

namespace Lasthope.Server.Tests;

/// <summary>
/// Small predictor packages for the tests, over four inputs: two numbers (one with missing values), a categorical
/// <c>region</c> (LightGBM categorical splits) and a categorical <c>permit</c>. The models are trained by the real
/// native LightGBM; the scorecards are written by hand so that their explanations can be checked term by term.
/// </summary>
internal static class TestPredictors
{
    public static readonly string[] Regions = ["north", "south", "east", "west", "centre"];

    public static readonly string[] Permits = ["none", "temporary", "permanent"];

    public static readonly PredictorFeature[] Features =
    [
        new("income"),
        new("residence_permit_months"),
        new("region", Regions),
        new("permit", Permits),
    ];

    private static readonly Lazy<(double[] X, double[] Latent)> Rows = new(() => Generate(3_000, seed: 7));

    private static readonly Lazy<string> BinaryText = new(() => Train(LightGbmObjective.Binary, trees: 60));

    private static readonly Lazy<string> RegressionText = new(() => Train(LightGbmObjective.Regression, trees: 40));

    private static readonly Lazy<string> MulticlassText = new(() => Train(LightGbmObjective.Multiclass, trees: 30));

    public static Scorecard Card(int outputs) => new(
        [.. Enumerable.Range(0, outputs).Select(k => -0.5 + 0.1 * k)],
        [
            new ScorecardTerm("income", null, [.. Enumerable.Range(0, outputs).Select(k => -0.8 + 0.2 * k)], Mean: 50, Scale: 20),
            new ScorecardTerm("residence_permit_months", null, [.. Enumerable.Range(0, outputs).Select(k => -0.4 + 0.3 * k)], Mean: 24, Scale: 12),
            new ScorecardTerm("region", "north", [.. Enumerable.Range(0, outputs).Select(k => 0.3 - 0.1 * k)], Share: 0.2),
            new ScorecardTerm("region", "west", [.. Enumerable.Range(0, outputs).Select(k => -0.2 + 0.05 * k)], Share: 0.25),
            new ScorecardTerm("permit", "none", [.. Enumerable.Range(0, outputs).Select(k => 0.9 - 0.2 * k)], Share: 0.3),
        ]);

    /// <summary>A credit-risk predictor: refuse when P(bad) is at least 0.3.</summary>
    public static PredictorPackage Binary(string name = "credit", string fallback = "scorecard", int budgetMs = 50) => new()
    {
        Name = name,
        Task = PredictionTask.Binary,
        Features = Features,
        Classes = ["good", "bad"],
        Threshold = 0.3,
        PositiveDecision = "refuse",
        NegativeDecision = "approve",
        Target = "risk",
        Reasons = new Dictionary<string, ReasonTemplate> { ["residence_permit_months"] = new("a short residence permit raises the risk", "a long residence permit lowers the risk") },
        BudgetMs = budgetMs,
        Model = BinaryText.Value,
        Fallback = fallback == "constant" ? new PredictorFallback("constant", Constant: [-1.2]) : new PredictorFallback("scorecard", Card(1)),
    };

    public static PredictorPackage Regression(string name = "ltv") => new()
    {
        Name = name,
        Task = PredictionTask.Regression,
        Features = Features,
        Target = "value",
        Model = RegressionText.Value,
        Fallback = new PredictorFallback("scorecard", Card(1)),
    };

    public static PredictorPackage Multiclass(string name = "route") => new()
    {
        Name = name,
        Task = PredictionTask.Multiclass,
        Features = Features,
        Classes = ["billing", "service", "churn"],
        Model = MulticlassText.Value,
        Fallback = new PredictorFallback("scorecard", Card(3)),
    };

    public static string ModelText(LightGbmObjective objective) => objective switch
    {
        LightGbmObjective.Binary => BinaryText.Value,
        LightGbmObjective.Regression => RegressionText.Value,
        _ => MulticlassText.Value,
    };

    /// <summary>Encoded rows (income, months or NaN, region code, permit code or NaN) with missing values in both kinds of column.</summary>
    public static double[] Sample(int rows, int seed) => Generate(rows, seed).X;

    private static (double[] X, double[] Latent) Generate(int rows, int seed)
    {
        var random = new Random(seed);
        var x = new double[rows * 4];
        var latent = new double[rows];
        for (var r = 0; r < rows; r++)
        {
            var income = Math.Round(20 + 60 * random.NextDouble(), 1);
            var months = random.NextDouble() < 0.1 ? double.NaN : random.Next(0, 61);
            var region = random.Next(Regions.Length);
            var permit = random.NextDouble() < 0.05 ? double.NaN : random.Next(Permits.Length);
            x[r * 4] = income;
            x[r * 4 + 1] = months;
            x[r * 4 + 2] = region;
            x[r * 4 + 3] = permit;
            latent[r] = -0.04 * (income - 50) + (double.IsNaN(months) ? 0.5 : months < 12 ? 1.2 : -0.3) + (region == 1 ? 0.6 : 0) + (permit == 0 ? 0.8 : 0) + random.NextDouble() - 0.5;
        }

        return (x, latent);
    }

    private static string Train(LightGbmObjective objective, int trees)
    {
        var (x, latent) = Rows.Value;
        var rows = latent.Length;
        var labels = objective switch
        {
            LightGbmObjective.Binary => latent.Select(v => v > 0.8 ? 1f : 0f).ToArray(),
            LightGbmObjective.Regression => latent.Select(v => (float)(100 * Math.Exp(v))).ToArray(),
            _ => latent.Select(v => v < 0.3 ? 0f : v < 1.2 ? 1f : 2f).ToArray(),
        };
        var options = new LightGbmTrainingOptions
        {
            Objective = objective,
            ClassCount = objective == LightGbmObjective.Multiclass ? 3 : 0,
            Iterations = trees,
            NumLeaves = 15,
            MinDataInLeaf = 10,
            CategoricalFeatures = [2, 3],
            FeatureNames = [.. Features.Select(f => f.Name)],
            Threads = 1,
            Seed = 3,
        };
        return LightGbmTrainer.Train(options, new TrainingData(x, rows, 4, labels)).ModelText;
    }
}
