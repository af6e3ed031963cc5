using Lasthope.Core.Identifiers;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lasthope.Server.Predict;

/// <summary>What a predictive model predicts.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PredictionTask>))]
public enum PredictionTask
{
    /// <summary>The probability of the positive class, and a decision under a threshold.</summary>
    [JsonStringEnumMemberName("binary")]
    Binary,

    /// <summary>A value in the label's units.</summary>
    [JsonStringEnumMemberName("regression")]
    Regression,

    /// <summary>The probability of each class (softmax), and the most probable class as the decision.</summary>
    [JsonStringEnumMemberName("multiclass")]
    Multiclass,
}

/// <summary>One input of a predictor, in the model's column order.</summary>
/// <param name="Name">The name a request uses.</param>
/// <param name="Categories">
/// For a categorical input, its known values: the value at index c is LightGBM's category code c. Null for a numeric
/// input. A value the model never saw is treated as missing.
/// </param>
public sealed record PredictorFeature(string Name, IReadOnlyList<string>? Categories = null)
{
    public bool IsCategorical => Categories is not null;
}

/// <summary>The phrases of one feature's reasons: what it does to the prediction when it pushes it up or down.</summary>
public sealed record ReasonTemplate(string Raises, string Lowers);

/// <summary>One term of a <see cref="Scorecard"/>.</summary>
/// <param name="Feature">The input's name.</param>
/// <param name="Category">Null for a numeric term; else the category this weight applies to.</param>
/// <param name="Weights">One weight per output (one, or one per class).</param>
/// <param name="Mean">A numeric term's training mean (a missing value counts as the mean: its term is 0).</param>
/// <param name="Scale">A numeric term's training standard deviation: the weight applies to (x - mean) / scale.</param>
/// <param name="Share">A category's share of the training rows (the expected value of its indicator).</param>
public sealed record ScorecardTerm(string Feature, string? Category, IReadOnlyList<double> Weights, double Mean = 0, double Scale = 1, double Share = 0);

/// <summary>
/// A linear model over the same inputs (logistic for binary, softmax for multiclass, identity for regression): the
/// last hope of a predictor, cheap enough to answer any request inside any budget, and explainable term by term.
/// </summary>
public sealed record Scorecard(IReadOnlyList<double> Intercepts, IReadOnlyList<ScorecardTerm> Terms);

/// <summary>The fallback a predictor names: a scorecard, or a constant prediction (the prior).</summary>
/// <param name="Kind"><c>scorecard</c> or <c>constant</c>.</param>
/// <param name="Scorecard">The scorecard, for kind <c>scorecard</c>.</param>
/// <param name="Constant">The raw scores (one per output) of kind <c>constant</c>: the prior's log-odds, mean, or class log-shares.</param>
public sealed record PredictorFallback(string Kind, Scorecard? Scorecard = null, IReadOnlyList<double>? Constant = null);

/// <summary>
/// A predictive model as Lasthope registers it: the LightGBM model, its inputs (names, categories), what its output
/// means (task, classes, threshold, decision labels), its reason phrases and its fallback. One JSON document, so the
/// model and what makes it usable travel and are versioned together.
/// </summary>
public sealed record PredictorPackage
{
    public const string FormatName = "lasthope-predictor/1";

    public string Format { get; init; } = FormatName;

    /// <summary>The predictor's name: POST /v1/predict/{name}.</summary>
    public required string Name { get; init; }

    public required PredictionTask Task { get; init; }

    /// <summary>The inputs, in the model's column order.</summary>
    public required IReadOnlyList<PredictorFeature> Features { get; init; }

    /// <summary>The label's values: binary [negative, positive]; multiclass, each class by index; empty for regression.</summary>
    public IReadOnlyList<string> Classes { get; init; } = [];

    /// <summary>Binary: the decision is <see cref="PositiveDecision"/> when P(positive) is at least this.</summary>
    public double Threshold { get; init; } = 0.5;

    /// <summary>Binary: the decision's name when P(positive) reaches the threshold (for a risk model, <c>refuse</c>).</summary>
    public string PositiveDecision { get; init; } = "positive";

    /// <summary>Binary: the decision's name below the threshold (<c>approve</c>).</summary>
    public string NegativeDecision { get; init; } = "negative";

    /// <summary>What the prediction is of, in phrases: "raises the risk" (<c>risk</c>), "raises the value".</summary>
    public string Target { get; init; } = "score";

    /// <summary>Per-feature phrases; a feature without one gets "raises the {target}" / "lowers the {target}".</summary>
    public IReadOnlyDictionary<string, ReasonTemplate> Reasons { get; init; } = new Dictionary<string, ReasonTemplate>();

    /// <summary>The model's budget per request, from the complete request to the answer, in milliseconds.</summary>
    public int BudgetMs { get; init; } = 50;

    /// <summary>The LightGBM text model.</summary>
    public required string Model { get; init; }

    public required PredictorFallback Fallback { get; init; }

    /// <summary>Whether the bytes look like a predictor package (a JSON object naming this format near its start).</summary>
    public static bool IsPackage(ReadOnlySpan<byte> content)
    {
        var head = content[..Math.Min(content.Length, 256)];
        return head.TrimStart(" \t\r\n"u8).StartsWith("{"u8) && head.IndexOf("lasthope-predictor/"u8) >= 0;
    }

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, PredictorJsonContext.Default.PredictorPackage);

    /// <summary>Reads a package; <see cref="PredictorPackageException"/> when it is malformed or inconsistent.</summary>
    public static PredictorPackage Parse(ReadOnlySpan<byte> content)
    {
        PredictorPackage? package;
        try
        {
            package = JsonSerializer.Deserialize(content, PredictorJsonContext.Default.PredictorPackage);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            throw new PredictorPackageException($"Not a readable predictor package: {e.Message}", e);
        }

        return (package ?? throw new PredictorPackageException("The predictor package is null.")).Validated();
    }

    /// <summary>The most inputs a predictor may have.</summary>
    public const int MaxFeatures = 10_000;

    /// <summary>The most classes of a multiclass predictor.</summary>
    public const int MaxClasses = 1_000;

    /// <summary>The most categories of one categorical input.</summary>
    public const int MaxCategories = 100_000;

    /// <summary>The largest |weight|, |intercept| or |constant| a fallback may hold (see <see cref="FallbackScorer.MaxStandardScore"/>).</summary>
    public const double MaxWeight = 1e6;

    /// <summary>The longest phrase (a reason or a decision name), in characters.</summary>
    public const int MaxPhraseLength = 256;

    /// <summary>
    /// Every rule a package must keep before anything is built from it: a JSON document can hold nulls, repeats and
    /// huge lists, and the package comes from a client (an administrator's, but a typo must be a 422, not a 500).
    /// </summary>
    private PredictorPackage Validated()
    {
        var problems = new List<string>();
        if (Format != FormatName)
        {
            problems.Add($"format '{Format}' is not '{FormatName}'.");
        }

        if (Ids.Problem(Name) is { } nameProblem)
        {
            problems.Add($"name {nameProblem}.");
        }

        if (string.IsNullOrWhiteSpace(Model))
        {
            problems.Add("it has no model.");
        }

        CheckFeatures(problems);
        CheckClasses(problems);
        if (!(Threshold is > 0 and < 1))
        {
            problems.Add("threshold must lie strictly between 0 and 1.");
        }

        if (BudgetMs is < 1 or > 60_000)
        {
            problems.Add("budgetMs must be 1 to 60000.");
        }

        foreach (var (what, phrase) in new[] { ("positiveDecision", PositiveDecision), ("negativeDecision", NegativeDecision), ("target", Target) })
        {
            if (string.IsNullOrWhiteSpace(phrase) || phrase.Length > MaxPhraseLength)
            {
                problems.Add($"{what} must be 1 to {MaxPhraseLength} characters.");
            }
        }

        if (Reasons is null || Reasons.Values.Any(r => r is null || !IsPhrase(r.Raises) || !IsPhrase(r.Lowers)))
        {
            problems.Add($"every reason needs its raises and lowers phrases (1 to {MaxPhraseLength} characters).");
        }

        if (problems.Count == 0)
        {
            CheckFallback(problems);
        }

        return problems.Count == 0 ? this : throw new PredictorPackageException($"The predictor package is inconsistent: {string.Join(' ', problems)}");
    }

    private static bool IsPhrase(string? text) => !string.IsNullOrWhiteSpace(text) && text.Length <= MaxPhraseLength;

    private void CheckFeatures(List<string> problems)
    {
        if (Features is null || Features.Count == 0 || Features.Count > MaxFeatures)
        {
            problems.Add($"it needs 1 to {MaxFeatures} features.");
        }
        else if (Features.Any(f => f is null || string.IsNullOrEmpty(f.Name)))
        {
            problems.Add("every feature needs a name.");
        }
        else if (Features.Select(f => f.Name).Distinct(StringComparer.Ordinal).Count() != Features.Count)
        {
            problems.Add("a feature name repeats.");
        }
        else if (Features.FirstOrDefault(f => f.Categories is { } c && (c.Count is 0 or > MaxCategories || c.Any(v => v is null) || c.Distinct(StringComparer.Ordinal).Count() != c.Count)) is { } bad)
        {
            problems.Add($"categorical feature '{bad.Name}' needs 1 to {MaxCategories} distinct, non-null categories.");
        }
    }

    private void CheckClasses(List<string> problems)
    {
        if (Classes is null || Classes.Any(c => string.IsNullOrEmpty(c) || c.Length > MaxPhraseLength))
        {
            problems.Add($"every class needs a name of 1 to {MaxPhraseLength} characters.");
            return;
        }

        if (Classes.Distinct(StringComparer.Ordinal).Count() != Classes.Count)
        {
            problems.Add("a class name repeats.");
        }

        var wrongCount = Task switch
        {
            PredictionTask.Binary => Classes.Count is not (0 or 2),
            PredictionTask.Multiclass => Classes.Count is < 3 or > MaxClasses,
            _ => Classes.Count != 0,
        };
        if (wrongCount)
        {
            problems.Add($"a {Task.ToString().ToLowerInvariant()} predictor has {Classes.Count} classes (binary 0 or 2, multiclass 3 to {MaxClasses}, regression none).");
        }
    }

    private void CheckFallback(List<string> problems)
    {
        var outputs = Task == PredictionTask.Multiclass ? Classes.Count : 1;
        static bool Bounded(IReadOnlyList<double>? values, int count) => values is not null && values.Count == count && values.All(v => double.IsFinite(v) && Math.Abs(v) <= MaxWeight);
        var features = Features.ToDictionary(f => f.Name, StringComparer.Ordinal);
        bool TermFits(ScorecardTerm? t) =>
            t is not null && t.Feature is not null && Bounded(t.Weights, outputs)
            && features.TryGetValue(t.Feature, out var f) && f.IsCategorical == (t.Category is not null)
            && (t.Category is null
                ? double.IsFinite(t.Mean) && double.IsFinite(t.Scale) && t.Scale > 0
                : t.Share is >= 0 and <= 1 && f.Categories!.Contains(t.Category, StringComparer.Ordinal));
        var fits = Fallback switch
        {
            { Kind: "constant", Constant: var c } => Bounded(c, outputs),
            { Kind: "scorecard", Scorecard: { Intercepts: var i, Terms: { } terms } } => Bounded(i, outputs) && terms.All(TermFits)
                && terms.Select(t => (t.Feature, t.Category)).Distinct().Count() == terms.Count,
            _ => false,
        };
        if (!fits)
        {
            problems.Add($"the fallback is not a constant or a scorecard with {outputs} output(s), finite weights of at most {MaxWeight:G} in size and a positive scale, over the package's features and categories, each term once.");
        }
    }
}

public sealed class PredictorPackageException(string message, Exception? inner = null) : Exception(message, inner);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(PredictorPackage))]
internal sealed partial class PredictorJsonContext : JsonSerializerContext;
