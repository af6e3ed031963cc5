namespace Lasthope.Trees.Loading;

/// <summary>What a loader hands to <see cref="TreeModel"/>: the trees in canonical form plus the model's metadata.</summary>
internal sealed class SourceEnsemble
{
    public required ModelFormat Format { get; init; }

    public required string Objective { get; init; }

    public required OutputTransform Transform { get; init; }

    public double SigmoidScale { get; init; } = 1.0;

    public required int FeatureCount { get; init; }

    public required string[] FeatureNames { get; init; }

    public required SourceTree[] Trees { get; init; }

    /// <summary>Outputs per document: the classes of a multiclass model (softmax or one-vs-all), else 1.</summary>
    public int ClassCount { get; init; } = 1;

    /// <summary>The class each tree adds to; null for <c>tree % ClassCount</c> (LightGBM's order: one tree per class per iteration).</summary>
    public int[]? TreeClass { get; init; }

    /// <summary>Per-class base margins (XGBoost's base score per output); null for <see cref="BaseScore"/> everywhere.</summary>
    public double[]? BaseScores { get; init; }

    /// <summary>Added to every raw score before the trees (XGBoost's base margin; 0 for LightGBM).</summary>
    public double BaseScore { get; init; }

    /// <summary>The raw score is the mean of the trees, not their sum (LightGBM's random forest mode).</summary>
    public bool AverageOutput { get; init; }

    /// <summary>Inputs are rounded to float before comparison (XGBoost reads features as float32).</summary>
    public bool RoundInputsToFloat { get; init; }

    /// <summary>The boosting type named by the file (gbdt, dart, rf, goss), for inspection.</summary>
    public string Boosting { get; init; } = "gbdt";

    /// <summary>The format's own version string (v4; XGBoost 2.1.4).</summary>
    public string FormatVersion { get; init; } = "";
}
