using System.Text.Json.Serialization;

namespace Lasthope.Core.Serving;

/// <summary>
/// Which path produced a ranking. It is on every response and every logged impression, so that an experiment
/// measures what it claims to: a model arm that fell back to the heuristic is visible as such.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<ServedBy>))]
public enum ServedBy
{
    /// <summary>No model is configured for the surface or arm: the CTR heuristic is the intended policy.</summary>
    [JsonStringEnumMemberName("heuristic")]
    Heuristic,

    /// <summary>The model re-ranked the whole top K within the budget.</summary>
    [JsonStringEnumMemberName("model")]
    Model,

    /// <summary>The budget allowed the model to score only a prefix of the top K; that prefix was re-ranked.</summary>
    [JsonStringEnumMemberName("model_partial")]
    ModelPartial,

    /// <summary>A model was meant to serve but could not; the heuristic ranking was served instead.</summary>
    [JsonStringEnumMemberName("heuristic_fallback")]
    HeuristicFallback,
}

/// <summary>Why a model that was meant to serve did not.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FallbackReason>))]
public enum FallbackReason
{
    /// <summary>The model did not finish within the request's budget.</summary>
    [JsonStringEnumMemberName("timeout")]
    Timeout,

    /// <summary>The model threw while scoring.</summary>
    [JsonStringEnumMemberName("model_error")]
    ModelError,

    /// <summary>The policy names a model that is not loaded.</summary>
    [JsonStringEnumMemberName("no_model")]
    NoModel,

    /// <summary>The feature stage failed.</summary>
    [JsonStringEnumMemberName("features_unavailable")]
    FeaturesUnavailable,

    /// <summary>The circuit breaker is open after repeated model failures.</summary>
    [JsonStringEnumMemberName("circuit_open")]
    CircuitOpen,

    /// <summary>The request would have queued past its budget for a scoring slot.</summary>
    [JsonStringEnumMemberName("overload")]
    Overload,
}

/// <summary>Which score placed an item in a served list.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ItemSource>))]
public enum ItemSource
{
    /// <summary>The CTR heuristic.</summary>
    [JsonStringEnumMemberName("heuristic")]
    Heuristic,

    /// <summary>The re-ranking model.</summary>
    [JsonStringEnumMemberName("model")]
    Model,

    /// <summary>Item popularity (cold start of the recommender).</summary>
    [JsonStringEnumMemberName("popular")]
    Popular,

    /// <summary>The collaborative-filtering recommender (ALS).</summary>
    [JsonStringEnumMemberName("als")]
    Als,
}

/// <summary>The names used on the wire and in the logs: lower snake case (model_partial, circuit_open, ...).</summary>
public static class WireNames
{
    public static string ToWire(this ServedBy value) => value switch
    {
        ServedBy.Heuristic => "heuristic",
        ServedBy.Model => "model",
        ServedBy.ModelPartial => "model_partial",
        ServedBy.HeuristicFallback => "heuristic_fallback",
        _ => throw new ArgumentOutOfRangeException(nameof(value), value, null),
    };

    public static string ToWire(this FallbackReason value) => value switch
    {
        FallbackReason.Timeout => "timeout",
        FallbackReason.ModelError => "model_error",
        FallbackReason.NoModel => "no_model",
        FallbackReason.FeaturesUnavailable => "features_unavailable",
        FallbackReason.CircuitOpen => "circuit_open",
        FallbackReason.Overload => "overload",
        _ => throw new ArgumentOutOfRangeException(nameof(value), value, null),
    };

    public static string ToWire(this ItemSource value) => value switch
    {
        ItemSource.Heuristic => "heuristic",
        ItemSource.Model => "model",
        ItemSource.Popular => "popular",
        ItemSource.Als => "als",
        _ => throw new ArgumentOutOfRangeException(nameof(value), value, null),
    };

    public static ServedBy ParseServedBy(string wire) => wire switch
    {
        "heuristic" => ServedBy.Heuristic,
        "model" => ServedBy.Model,
        "model_partial" => ServedBy.ModelPartial,
        "heuristic_fallback" => ServedBy.HeuristicFallback,
        _ => throw new FormatException($"Unknown servedBy '{wire}'."),
    };

    public static FallbackReason ParseFallbackReason(string wire) => wire switch
    {
        "timeout" => FallbackReason.Timeout,
        "model_error" => FallbackReason.ModelError,
        "no_model" => FallbackReason.NoModel,
        "features_unavailable" => FallbackReason.FeaturesUnavailable,
        "circuit_open" => FallbackReason.CircuitOpen,
        "overload" => FallbackReason.Overload,
        _ => throw new FormatException($"Unknown fallbackReason '{wire}'."),
    };

    public static ItemSource ParseItemSource(string wire) => wire switch
    {
        "heuristic" => ItemSource.Heuristic,
        "model" => ItemSource.Model,
        "popular" => ItemSource.Popular,
        "als" => ItemSource.Als,
        _ => throw new FormatException($"Unknown item source '{wire}'."),
    };
}
