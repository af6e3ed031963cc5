using Lasthope.Counters;
using Lasthope.Server.Configuration;

namespace Lasthope.Server.Cascade;

/// <summary>
/// The features Lasthope computes itself for every candidate, from the counters and the heuristic stage. A model's
/// columns are these names and the surface's configured request features (<see cref="SurfaceOptions.RequestFeatures"/>).
/// </summary>
public static class BuiltInFeatures
{
    public const string HeuristicScore = "heuristic_score";
    public const string HeuristicRank = "heuristic_rank";
    public const string Ctr7dSegment = "ctr7d_segment";
    public const string Ctr30dSegment = "ctr30d_segment";
    public const string TrendSegment = "trend_segment";
    public const string Ctr7dItem = "ctr7d_item";
    public const string Ctr30dItem = "ctr30d_item";
    public const string TrendItem = "trend_item";
    public const string Impressions7d = "impressions7d";
    public const string Impressions30d = "impressions30d";
    public const string ItemAgeHours = "item_age_hours";
    public const string SegmentId = "segment_id";

    /// <summary>All built-in names, in the order <see cref="Compute"/> writes them.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        HeuristicScore, HeuristicRank, Ctr7dSegment, Ctr30dSegment, TrendSegment, Ctr7dItem, Ctr30dItem, TrendItem,
        Impressions7d, Impressions30d, ItemAgeHours, SegmentId,
    ];

    public static int Count => Names.Count;

    /// <summary>
    /// Writes the built-in features of one candidate into <paramref name="destination"/> (length <see cref="Count"/>).
    /// Unknown values are NaN (a missing value to the trees): the age of an item never seen, the id of a segment
    /// outside the age x gender grid.
    /// </summary>
    /// <param name="heuristicScore">The candidate's last-hope score.</param>
    /// <param name="heuristicRank">Its 1-based rank in the heuristic order.</param>
    /// <param name="counters">What the counters know of it.</param>
    /// <param name="segmentId">The segment's index in the grid, or NaN.</param>
    /// <param name="now">The server's clock.</param>
    public static void Compute(double heuristicScore, int heuristicRank, in ItemCounterFeatures counters, double segmentId, DateTimeOffset now, Span<double> destination)
    {
        destination[0] = heuristicScore;
        destination[1] = heuristicRank;
        destination[2] = counters.InSegment.Ctr7d;
        destination[3] = counters.InSegment.Ctr30d;
        destination[4] = counters.InSegment.Trend;
        destination[5] = counters.Overall.Ctr7d;
        destination[6] = counters.Overall.Ctr30d;
        destination[7] = counters.Overall.Trend;
        destination[8] = counters.Impressions7d;
        destination[9] = counters.Impressions30d;
        destination[10] = counters.FirstSeen is { } first ? Math.Max(0, (now - first).TotalHours) : double.NaN;
        destination[11] = segmentId;
    }
}

/// <summary>The features of a surface did not match a model's columns.</summary>
public sealed class FeatureMismatchException(string message) : Exception(message);

/// <summary>
/// How a model's columns are filled: each is a built-in feature (by index) or a request-supplied feature (by name).
/// Made once per model and surface, when the model is registered or activated; a column that is neither is refused.
/// </summary>
public sealed class FeatureBinding
{
    private readonly int[] _builtIn;
    private readonly string?[] _request;

    private FeatureBinding(IReadOnlyList<string> names, int[] builtIn, string?[] request)
    {
        Names = names;
        _builtIn = builtIn;
        _request = request;
        UsesRequestFeatures = request.Any(r => r is not null);
    }

    /// <summary>Column names, in the model's order.</summary>
    public IReadOnlyList<string> Names { get; }

    public int Count => Names.Count;

    public bool UsesRequestFeatures { get; }

    /// <summary>
    /// Binds <paramref name="modelFeatures"/> to the feature set of <paramref name="surface"/>. Throws
    /// <see cref="FeatureMismatchException"/> naming the first column that is neither built in nor a configured request
    /// feature of the surface.
    /// </summary>
    public static FeatureBinding Create(IReadOnlyList<string> modelFeatures, string surface, SurfaceOptions options)
    {
        ArgumentNullException.ThrowIfNull(modelFeatures);
        ArgumentNullException.ThrowIfNull(options);
        var builtIn = new int[modelFeatures.Count];
        var request = new string?[modelFeatures.Count];
        for (var i = 0; i < modelFeatures.Count; i++)
        {
            var name = modelFeatures[i];
            var index = IndexOf(BuiltInFeatures.Names, name);
            builtIn[i] = index;
            if (index >= 0)
            {
                continue;
            }

            if (!options.RequestFeatures.Contains(name, StringComparer.Ordinal))
            {
                throw new FeatureMismatchException(
                    $"Model feature '{name}' (column {i}) is not in the feature set of surface '{surface}'. " +
                    $"Built-in features: {string.Join(", ", BuiltInFeatures.Names)}. " +
                    $"Request features configured for the surface (Lasthope:Serving:Surfaces:{surface}:RequestFeatures): " +
                    $"{(options.RequestFeatures.Count == 0 ? "none" : string.Join(", ", options.RequestFeatures))}. " +
                    "Train the model on these names, or configure the request feature.");
            }

            request[i] = name;
        }

        return new FeatureBinding(modelFeatures, builtIn, request);
    }

    /// <summary>The built-in features plus the surface's request features: what is logged when no model scored.</summary>
    public static FeatureBinding Everything(string surface, SurfaceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Create([.. BuiltInFeatures.Names, .. options.RequestFeatures], surface, options);
    }

    /// <summary>
    /// Fills one row: <paramref name="builtIns"/> are the candidate's built-in values; request features are read from
    /// <paramref name="requestFeatures"/> (NaN where the candidate does not carry one).
    /// </summary>
    public void Fill(ReadOnlySpan<double> builtIns, IReadOnlyDictionary<string, double>? requestFeatures, Span<double> row)
    {
        for (var c = 0; c < _builtIn.Length; c++)
        {
            var b = _builtIn[c];
            row[c] = b >= 0
                ? builtIns[b]
                : requestFeatures is not null && requestFeatures.TryGetValue(_request[c]!, out var value) ? value : double.NaN;
        }
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}
