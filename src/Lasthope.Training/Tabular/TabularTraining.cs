using System.Globalization;
using Lasthope.Evaluation;
using Lasthope.Server.Predict;
using Lasthope.Trees.Native;

namespace Lasthope.Training.Tabular;

/// <summary>What <see cref="TabularTraining.Train"/> trains, and how.</summary>
public sealed record TabularTrainingOptions
{
    public required PredictionTask Task { get; init; }

    /// <summary>The predictor's name (POST /v1/predict/{name}).</summary>
    public required string Name { get; init; }

    /// <summary>Binary: the label value that is the positive class; null when the labels are 0 and 1.</summary>
    public string? Positive { get; init; }

    /// <summary>Binary: the costs of a false positive and a false negative; the threshold is the one that minimises their expected sum.</summary>
    public (double FalsePositive, double FalseNegative)? Costs { get; init; }

    /// <summary>Binary: the decision names above and below the threshold.</summary>
    public string PositiveDecision { get; init; } = "positive";

    public string NegativeDecision { get; init; } = "negative";

    /// <summary>What the prediction is of, in the reasons' phrases.</summary>
    public string Target { get; init; } = "score";

    public IReadOnlyDictionary<string, ReasonTemplate> Reasons { get; init; } = new Dictionary<string, ReasonTemplate>();

    /// <summary>The fallback served under the budget or on failure: the linear baseline (<c>scorecard</c>) or the prior (<c>constant</c>).</summary>
    public string Fallback { get; init; } = "scorecard";

    public int BudgetMs { get; init; } = 50;

    /// <summary>Held-out shares: the test rows measure, the validation rows stop the boosting.</summary>
    public double TestFraction { get; init; } = 0.2;

    public double ValidationFraction { get; init; } = 0.2;

    public int Trees { get; init; } = 1_000;

    public int Leaves { get; init; } = 31;

    public double LearningRate { get; init; } = 0.05;

    public int MinDataInLeaf { get; init; } = 20;

    public int EarlyStoppingRounds { get; init; } = 50;

    public int Threads { get; init; } = 2;

    public int Seed { get; init; } = 42;

    public int Resamples { get; init; } = 1_000;

    /// <summary>Further LightGBM parameters (name to value), applied last (for example is_unbalance=true for a rare class).</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();
}

/// <summary>The outcome of a training run: the package to register and the honest comparison that came with it.</summary>
/// <param name="TestLabels">The held-out labels (binary 0/1, the value, or the class index).</param>
/// <param name="TestPredictions">Each model's held-out predictions (the GBDT first), as the comparison used them.</param>
/// <param name="MeanAbsShap">Mean |TreeSHAP| per feature over the held-out rows (for multiclass, summed over classes).</param>
public sealed record TabularTrainingReport(
    PredictorPackage Package,
    PredictionComparison Comparison,
    int TrainRows,
    int ValidationRows,
    int TestRows,
    int BestIteration,
    double Threshold,
    double[] TestLabels,
    IReadOnlyList<ScoredModel> TestPredictions,
    double[] TestFeatures,
    IReadOnlyList<(string Feature, double MeanAbsShap)> MeanAbsShap)
{
    /// <summary>What training chose on its own, to be said with the results.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>The held-out rows' weights, as <see cref="Comparison"/> counted them; empty when the table has no weight column.</summary>
    public IReadOnlyList<double> TestWeights { get; init; } = [];
}

/// <summary>
/// Trains a tabular model honestly: native LightGBM with early stopping on a validation split, beside two baselines
/// fitted on the same training rows (the prior, and a linear model by ML.NET), all three measured on the same
/// held-out test rows with bootstrap intervals and the paired difference from the best baseline. The package it
/// returns carries the linear baseline as the model's fallback (or the prior), the decision threshold, and the phrases.
/// </summary>
public static class TabularTraining
{
    public static TabularTrainingReport Train(TabularData data, TabularTrainingOptions options, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        var (labels, classes) = Labels(data, options);
        var (train, validation, test) = Split(data.Rows, options);
        var k = options.Task == PredictionTask.Multiclass ? classes.Length : 1;
        var xTrain = data.Select(train);
        var yTrain = train.Select(i => labels[i]).ToArray();
        var wTrain = data.Weights.Length == 0 ? [] : train.Select(i => data.Weights[i]).ToArray();
        var xValidation = data.Select(validation);
        var xTest = data.Select(test);
        var yTest = test.Select(i => labels[i]).ToArray();

        // The weights count in training, in the validation loss that stops the boosting, and in the held-out metrics.
        var wValidation = data.Weights.Length == 0 ? [] : validation.Select(i => data.Weights[i]).ToArray();
        var wTest = data.Weights.Length == 0 ? [] : test.Select(i => data.Weights[i]).ToArray();
        foreach (var (w, split) in new[] { (wTrain, "training"), (wValidation, "validation"), (wTest, "held-out") })
        {
            if (w.Length > 0 && w.All(v => v == 0))
            {
                throw new TabularDataException($"Every one of the {split} rows weighs 0; each split needs some weight.");
            }
        }

        // The boosted trees. A rare positive class (under 1%) makes LightGBM's first Newton steps explode: with
        // boost_from_average the positives' hessian p(1 - p) is tiny, a leaf of positives gets a value in the hundreds
        // and the next tree's correction in the thousands (seen on the whale classifier: a held-out AUC of 0.43).
        // Limiting a leaf's output (max_delta_step, as LightGBM's documentation advises for imbalanced data) stops it.
        var notes = new List<string>();
        var parameters = new Dictionary<string, string>(options.Parameters, StringComparer.Ordinal);
        var positiveShare = options.Task == PredictionTask.Binary ? yTrain.Average() : double.NaN;
        if (positiveShare < 0.01 && !parameters.ContainsKey("max_delta_step"))
        {
            parameters["max_delta_step"] = "2";
            notes.Add(FormattableString.Invariant($"The positive class is {positiveShare:P3} of the training rows: trained with max_delta_step=2 (give --param max_delta_step=0 to lift it)."));
        }

        var categorical = data.Features.Select((f, i) => (f, i)).Where(p => p.f.IsCategorical).Select(p => p.i).ToArray();
        var lightGbm = new LightGbmTrainingOptions
        {
            Objective = options.Task switch
            {
                PredictionTask.Binary => LightGbmObjective.Binary,
                PredictionTask.Multiclass => LightGbmObjective.Multiclass,
                _ => LightGbmObjective.Regression,
            },
            ClassCount = options.Task == PredictionTask.Multiclass ? classes.Length : 0,
            Iterations = options.Trees,
            NumLeaves = options.Leaves,
            LearningRate = options.LearningRate,
            MinDataInLeaf = options.MinDataInLeaf,
            EarlyStoppingRounds = options.EarlyStoppingRounds,
            CategoricalFeatures = categorical,
            FeatureNames = [.. data.Features.Select(f => f.Name)],
            Threads = options.Threads,
            Seed = options.Seed,
            Parameters = parameters,
        };
        var trainSet = new TrainingData(xTrain, train.Count, data.Columns, yTrain.Select(v => (float)v).ToArray()) { Weights = wTrain };
        var validationSet = new TrainingData(xValidation, validation.Count, data.Columns, validation.Select(i => (float)labels[i]).ToArray()) { Weights = wValidation };
        var result = LightGbmTrainer.Train(lightGbm, trainSet, validationSet, p => progress?.Report(p.Iteration / (double)p.Total), cancellationToken);

        // The baselines, fitted on the training rows only.
        var scorecard = LinearBaseline.Train(options.Task, data.Features, xTrain, yTrain, wTrain, classes.Length, options.Seed);
        var prior = Prior(options.Task, yTrain, wTrain, k);
        var threshold = options.Costs is { } c ? DecisionCosts.FromCosts(c.FalsePositive, c.FalseNegative).Threshold : 0.5;
        var package = new PredictorPackage
        {
            Name = options.Name,
            Task = options.Task,
            Features = data.Features,
            Classes = options.Task == PredictionTask.Regression ? [] : classes,
            Threshold = threshold,
            PositiveDecision = options.PositiveDecision,
            NegativeDecision = options.NegativeDecision,
            Target = options.Target,
            Reasons = options.Reasons,
            BudgetMs = options.BudgetMs,
            Model = result.ModelText,
            Fallback = options.Fallback == "constant" ? new PredictorFallback("constant", Constant: prior) : new PredictorFallback("scorecard", scorecard),
        };
        var gbdt = new Predictor(package, "candidate");
        var linear = new Predictor(package with { Fallback = new PredictorFallback("scorecard", scorecard) }, "linear");
        var constant = new Predictor(package with { Fallback = new PredictorFallback("constant", Constant: prior) }, "prior");

        var models = new List<ScoredModel>
        {
            new("gbdt", Predictions(gbdt, xTest, test.Count, PredictionSource.Model)),
            new(options.Task == PredictionTask.Regression ? "linear" : "logistic", Predictions(linear, xTest, test.Count, PredictionSource.Fallback)),
            new("prior", Predictions(constant, xTest, test.Count, PredictionSource.Fallback)),
        };
        var kind = options.Task switch
        {
            PredictionTask.Binary => PredictionKind.Binary,
            PredictionTask.Multiclass => PredictionKind.Multiclass,
            _ => PredictionKind.Regression,
        };
        var costs = options.Costs is { } cc ? DecisionCosts.FromCosts(cc.FalsePositive, cc.FalseNegative) : new DecisionCosts();
        var comparison = PredictionMetrics.Compare(kind, yTest, models, classes.Length, costs, resamples: options.Resamples, seed: options.Seed, weights: wTest.Length == 0 ? null : [.. wTest.Select(v => (double)v)]);
        return new TabularTrainingReport(package, comparison, train.Count, validation.Count, test.Count, result.IterationsKept, threshold, yTest, models, xTest,
            MeanAbsShap(gbdt, xTest, test.Count)) { Notes = notes, TestWeights = [.. wTest.Select(v => (double)v)] };
    }

    /// <summary>Numeric labels: binary 0/1, the value, or the class index; and the class names.</summary>
    private static (double[] Labels, string[] Classes) Labels(TabularData data, TabularTrainingOptions options)
    {
        switch (options.Task)
        {
            case PredictionTask.Binary:
                var distinct = data.Labels.Distinct(StringComparer.Ordinal).ToArray();
                if (options.Positive is { } positive)
                {
                    if (!distinct.Contains(positive))
                    {
                        throw new TabularDataException($"No label is '{positive}' (the labels: {string.Join(", ", TabularData.OrderCategories(distinct).Take(10))}).");
                    }

                    var negative = distinct.Length == 2 ? distinct.First(v => v != positive) : "not " + positive;
                    return ([.. data.Labels.Select(v => v == positive ? 1.0 : 0.0)], [negative, positive]);
                }

                if (distinct.Any(v => v is not ("0" or "1")) || distinct.Length != 2)
                {
                    throw new TabularDataException($"Binary labels must be 0 and 1, or name the positive one with --positive (the labels: {string.Join(", ", TabularData.OrderCategories(distinct).Take(10))}).");
                }

                return ([.. data.Labels.Select(v => v == "1" ? 1.0 : 0.0)], ["0", "1"]);
            case PredictionTask.Regression:
                return ([.. data.Labels.Select((v, i) => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)
                    ? d : throw new TabularDataException($"Row {i + 1}: the label '{v}' is not a number."))], []);
            default:
                var classes = TabularData.OrderCategories(data.Labels.Distinct(StringComparer.Ordinal));
                if (classes.Length is < 3 or > 100)
                {
                    throw new TabularDataException($"A multiclass label needs 3 to 100 classes; this one has {classes.Length}.");
                }

                var index = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (double)p.i, StringComparer.Ordinal);
                return ([.. data.Labels.Select(v => index[v])], classes);
        }
    }

    /// <summary>A seeded shuffle cut into test, validation and training rows.</summary>
    private static (List<int> Train, List<int> Validation, List<int> Test) Split(int rows, TabularTrainingOptions options)
    {
        var order = Enumerable.Range(0, rows).ToArray();
        new Random(options.Seed).Shuffle(order);
        var test = (int)Math.Round(rows * options.TestFraction);
        var validation = (int)Math.Round(rows * options.ValidationFraction);
        if (test < 1 || validation < 1 || rows - test - validation < 10)
        {
            throw new TabularDataException($"{rows} rows are too few to hold out {options.TestFraction:P0} for testing and {options.ValidationFraction:P0} for validation.");
        }

        return ([.. order[(test + validation)..]], [.. order[test..(test + validation)]], [.. order[..test]]);
    }

    /// <summary>The prior's raw scores: the weighted log-odds of the positive share, the mean, or each class's log share.</summary>
    private static double[] Prior(PredictionTask task, double[] y, float[] w, int classes)
    {
        double Weight(int i) => w.Length == 0 ? 1 : w[i];
        var total = Enumerable.Range(0, y.Length).Sum(Weight);
        switch (task)
        {
            case PredictionTask.Binary:
                var p = Math.Clamp(Enumerable.Range(0, y.Length).Sum(i => Weight(i) * y[i]) / total, 1e-6, 1 - 1e-6);
                return [Math.Log(p / (1 - p))];
            case PredictionTask.Regression:
                return [Enumerable.Range(0, y.Length).Sum(i => Weight(i) * y[i]) / total];
            default:
                return [.. Enumerable.Range(0, classes).Select(c => Math.Log(Math.Max(1e-6, Enumerable.Range(0, y.Length).Where(i => y[i] == c).Sum(Weight) / total)))];
        }
    }

    /// <summary>Held-out predictions of one scorer: P(positive), the value, or every class's probability.</summary>
    public static double[] Predictions(Predictor predictor, double[] x, int rows, PredictionSource source)
    {
        ArgumentNullException.ThrowIfNull(predictor);
        ArgumentNullException.ThrowIfNull(x);
        var outputs = predictor.Outputs;
        var result = new double[rows * outputs];
        Span<double> raw = stackalloc double[outputs];
        for (var r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * predictor.FeatureCount, predictor.FeatureCount);
            if (source == PredictionSource.Model)
            {
                predictor.ScoreModel(row, raw);
            }
            else
            {
                predictor.ScoreFallback(row, raw);
            }

            predictor.Link(raw, source);
            raw.CopyTo(result.AsSpan(r * outputs));
        }

        return result;
    }

    /// <summary>
    /// Mean |exact TreeSHAP| per feature (summed over the classes of a multiclass model) over the first 2,000 of
    /// <paramref name="rows"/> encoded rows, largest first: the importance chart of the reports.
    /// </summary>
    public static List<(string Feature, double MeanAbsShap)> MeanAbsShap(Predictor predictor, double[] x, int rows)
    {
        ArgumentNullException.ThrowIfNull(predictor);
        ArgumentNullException.ThrowIfNull(x);
        var columns = predictor.FeatureCount;
        var outputs = predictor.Outputs;
        var sums = new double[columns];
        var contributions = new double[outputs * (columns + 1)];
        var count = Math.Min(rows, 2_000);
        for (var r = 0; r < count; r++)
        {
            predictor.Model.ExplainShap(x.AsSpan(r * columns, columns), contributions);
            for (var k = 0; k < outputs; k++)
            {
                for (var c = 0; c < columns; c++)
                {
                    sums[c] += Math.Abs(contributions[k * (columns + 1) + c]);
                }
            }
        }

        return [.. predictor.Package.Features.Select((f, c) => (f.Name, count == 0 ? 0 : sums[c] / count)).OrderByDescending(p => p.Item2)];
    }
}
