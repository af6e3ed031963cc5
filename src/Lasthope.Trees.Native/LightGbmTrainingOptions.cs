using System.Globalization;
using System.Text;

namespace Lasthope.Trees.Native;

/// <summary>The learning task.</summary>
public enum LightGbmObjective
{
    /// <summary>LambdaMART (<c>lambdarank</c>): learns to order documents within query groups, optimising NDCG.</summary>
    LambdaRank,

    /// <summary>Logistic loss on 0/1 labels (<c>binary</c>); the raw score is a log-odds.</summary>
    Binary,

    /// <summary>Squared error (<c>regression</c>).</summary>
    Regression,

    /// <summary>Softmax over <see cref="LightGbmTrainingOptions.ClassCount"/> classes (<c>multiclass</c>); labels are 0 to classes - 1.</summary>
    Multiclass,

    /// <summary>One binary classifier per class (<c>multiclassova</c>), each a sigmoid; labels are 0 to classes - 1.</summary>
    MulticlassOneVsAll,
}

/// <summary>
/// Parameters of a LightGBM training run. Defaults are LightGBM's own except where noted; <see cref="Threads"/> and
/// <see cref="Seed"/> have none, because a run's cost and its result must be what the caller chose.
/// </summary>
public sealed record LightGbmTrainingOptions
{
    /// <summary>The learning task; sets LightGBM's objective and its default metric (ndcg, binary_logloss, l2).</summary>
    public LightGbmObjective Objective { get; init; } = LightGbmObjective.LambdaRank;

    /// <summary>Boosting iterations (trees), at most; early stopping may keep fewer.</summary>
    public int Iterations { get; init; } = 100;

    /// <summary>Shrinkage applied to each tree (learning_rate).</summary>
    public double LearningRate { get; init; } = 0.1;

    /// <summary>Maximum leaves per tree (num_leaves).</summary>
    public int NumLeaves { get; init; } = 31;

    /// <summary>Maximum depth; -1 for none (leaf-wise growth limited by <see cref="NumLeaves"/>).</summary>
    public int MaxDepth { get; init; } = -1;

    /// <summary>Minimum rows in a leaf (min_data_in_leaf).</summary>
    public int MinDataInLeaf { get; init; } = 20;

    /// <summary>Minimum hessian sum in a leaf (min_sum_hessian_in_leaf).</summary>
    public double MinSumHessianInLeaf { get; init; } = 1e-3;

    /// <summary>Histogram bins per feature (max_bin).</summary>
    public int MaxBin { get; init; } = 255;

    /// <summary>Share of features each tree may use (feature_fraction), drawn with <see cref="Seed"/>.</summary>
    public double FeatureFraction { get; init; } = 1.0;

    /// <summary>Share of rows in each bag (bagging_fraction), drawn with <see cref="Seed"/>.</summary>
    public double BaggingFraction { get; init; } = 1.0;

    /// <summary>Bag every k iterations; 0 disables bagging.</summary>
    public int BaggingFrequency { get; init; }

    /// <summary>L2 regularisation of leaf values (lambda_l2).</summary>
    public double LambdaL2 { get; init; }

    /// <summary>NDCG cut-offs reported (and used for early stopping) with lambdarank.</summary>
    public IReadOnlyList<int> EvalAt { get; init; } = [1, 3, 5, 10];

    /// <summary>Gain of each label in NDCG and lambdarank; null for 2^label - 1.</summary>
    public IReadOnlyList<double>? LabelGain { get; init; }

    /// <summary>Stop when the validation metric has not improved for this many iterations; 0 never stops early.</summary>
    public int EarlyStoppingRounds { get; init; }

    /// <summary>The metric early stopping watches (<c>ndcg@10</c>); null for the last one LightGBM reports.</summary>
    public string? EarlyStoppingMetric { get; init; }

    /// <summary>OpenMP threads. No default: on a shared machine it is a choice, and training must not take every core.</summary>
    public required int Threads { get; init; }

    /// <summary>Seed of every random choice (bagging, feature fraction); with the same seed and threads the model is the same.</summary>
    public required int Seed { get; init; }

    /// <summary>Classes of a <see cref="LightGbmObjective.Multiclass"/> or <see cref="LightGbmObjective.MulticlassOneVsAll"/> model (LightGBM's num_class).</summary>
    public int ClassCount { get; init; }

    /// <summary>Indices of categorical features (non-negative integer values).</summary>
    public IReadOnlyList<int> CategoricalFeatures { get; init; } = [];

    /// <summary>Treat 0 as missing (for sparse data where absent means unknown).</summary>
    public bool ZeroAsMissing { get; init; }

    /// <summary>Feature names written into the model.</summary>
    public IReadOnlyList<string>? FeatureNames { get; init; }

    /// <summary>Further LightGBM parameters (name to value), applied last, so they override the ones above.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();

    /// <summary>The LightGBM parameter string these options stand for.</summary>
    public string ToParameterString()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Threads);
        var p = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["objective"] = Objective switch
            {
                LightGbmObjective.LambdaRank => "lambdarank",
                LightGbmObjective.Binary => "binary",
                LightGbmObjective.Multiclass => "multiclass",
                LightGbmObjective.MulticlassOneVsAll => "multiclassova",
                _ => "regression",
            },
            ["metric"] = Objective switch
            {
                LightGbmObjective.LambdaRank => "ndcg",
                LightGbmObjective.Binary => "binary_logloss",
                LightGbmObjective.Multiclass or LightGbmObjective.MulticlassOneVsAll => "multi_logloss",
                _ => "l2",
            },
            ["learning_rate"] = F(LearningRate),
            ["num_leaves"] = F(NumLeaves),
            ["max_depth"] = F(MaxDepth),
            ["min_data_in_leaf"] = F(MinDataInLeaf),
            ["min_sum_hessian_in_leaf"] = F(MinSumHessianInLeaf),
            ["max_bin"] = F(MaxBin),
            ["feature_fraction"] = F(FeatureFraction),
            ["bagging_fraction"] = F(BaggingFraction),
            ["bagging_freq"] = F(BaggingFrequency),
            ["lambda_l2"] = F(LambdaL2),
            ["num_threads"] = F(Threads),
            ["seed"] = F(Seed),

            // The same seed and thread count give the same model; row-wise histograms avoid LightGBM's timing-based
            // choice between layouts, which would make the model depend on the machine's load.
            ["deterministic"] = "true",
            ["force_row_wise"] = "true",
            ["zero_as_missing"] = ZeroAsMissing ? "true" : "false",
            ["verbosity"] = "-1",
        };
        if (Objective is LightGbmObjective.Multiclass or LightGbmObjective.MulticlassOneVsAll)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(ClassCount, 2, nameof(ClassCount));
            p["num_class"] = F(ClassCount);
        }

        if (Objective == LightGbmObjective.LambdaRank)
        {
            p["eval_at"] = string.Join(',', EvalAt.Select(F));
        }

        if (LabelGain is { Count: > 0 })
        {
            p["label_gain"] = string.Join(',', LabelGain.Select(F));
        }

        if (CategoricalFeatures.Count > 0)
        {
            p["categorical_feature"] = string.Join(',', CategoricalFeatures.Select(F));
        }

        foreach (var (key, value) in Parameters)
        {
            p[key] = value;
        }

        var builder = new StringBuilder();
        foreach (var (key, value) in p)
        {
            if (value.Contains(' ', StringComparison.Ordinal) || key.Contains(' ', StringComparison.Ordinal))
            {
                throw new ArgumentException($"LightGBM parameter {key}={value} contains a space.");
            }

            builder.Append(key).Append('=').Append(value).Append(' ');
        }

        return builder.ToString().TrimEnd();
    }

    private static string F(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string F(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
