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
/// Features of a candidate beyond the counters, from what the store keeps besides interactions: the item's numeric
/// attributes (<c>item.NAME</c>, for each name in <see cref="SurfaceOptions.ItemFeatures"/>) and the user's recent
/// clicks (<see cref="SurfaceOptions.UserHistoryFeatures"/>; the last <c>UserHistory.PerUser</c> clicks within 30 days).
/// A value that is not known is NaN (missing to the trees): an item without the attribute, a request without a user.
/// </summary>
public static class ContextFeatures
{
    /// <summary>The prefix of an item attribute's feature name.</summary>
    public const string ItemPrefix = "item.";

    /// <summary>The user's recent clicks, on any item.</summary>
    public const string UserClicks = "user_clicks";

    /// <summary>The user's recent clicks on this candidate.</summary>
    public const string UserItemClicks = "user_item_clicks";

    /// <summary>The user's recent clicks on items of this candidate's category (NaN when it has none).</summary>
    public const string UserCategoryClicks = "user_category_clicks";

    /// <summary>The user-history features, in the order they are logged.</summary>
    public static IReadOnlyList<string> UserNames { get; } = [UserClicks, UserItemClicks, UserCategoryClicks];

    /// <summary>The context features a surface offers, in the order they are logged.</summary>
    public static IEnumerable<string> Of(SurfaceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.ItemFeatures.Select(name => ItemPrefix + name).Concat(options.UserHistoryFeatures ? UserNames : []);
    }
}

/// <summary>A request's user's recent clicks, counted once per request for the user-history features.</summary>
public sealed class UserClickCounts
{
    private readonly Dictionary<string, int> _byItem = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _byCategory = new(StringComparer.Ordinal);

    /// <summary>Counts the clicks on <paramref name="items"/>, each item's category from <paramref name="categoryOf"/>.</summary>
    public UserClickCounts(ReadOnlySpan<string?> items, Func<string, string?> categoryOf)
    {
        ArgumentNullException.ThrowIfNull(categoryOf);
        foreach (var item in items)
        {
            if (item is null)
            {
                continue;
            }

            Total++;
            _byItem[item] = _byItem.GetValueOrDefault(item) + 1;
            if (categoryOf(item) is { } category)
            {
                _byCategory[category] = _byCategory.GetValueOrDefault(category) + 1;
            }
        }
    }

    public int Total { get; }

    public int OnItem(string itemId) => _byItem.GetValueOrDefault(itemId);

    public int InCategory(string category) => _byCategory.GetValueOrDefault(category);
}

/// <summary>The feature sources of one candidate: its built-in values, the request's features, its attributes, and the user's clicks.</summary>
public readonly ref struct CandidateFeatures
{
    public CandidateFeatures(ReadOnlySpan<double> builtIns, IReadOnlyDictionary<string, double>? requestFeatures, string itemId, Core.Items.ItemAttributes? item, UserClickCounts? user)
    {
        BuiltIns = builtIns;
        RequestFeatures = requestFeatures;
        ItemId = itemId;
        Item = item;
        User = user;
    }

    public ReadOnlySpan<double> BuiltIns { get; }

    public IReadOnlyDictionary<string, double>? RequestFeatures { get; }

    public string ItemId { get; }

    public Core.Items.ItemAttributes? Item { get; }

    /// <summary>Null when the request names no user.</summary>
    public UserClickCounts? User { get; }
}

/// <summary>
/// How a model's columns are filled: each is a built-in feature (by index), a request-supplied feature, an item
/// attribute or a user-history feature (by name; <see cref="ContextFeatures"/>). Made once per model and surface,
/// when the model is registered or activated; a column that is none of these for the surface is refused.
/// </summary>
public sealed class FeatureBinding
{
    private enum Source
    {
        BuiltIn,
        Request,
        Item,
        User,
    }

    private readonly Source[] _source;
    private readonly int[] _builtIn;
    private readonly string?[] _name;

    private FeatureBinding(IReadOnlyList<string> names, Source[] source, int[] builtIn, string?[] name)
    {
        Names = names;
        _source = source;
        _builtIn = builtIn;
        _name = name;
        UsesRequestFeatures = source.Contains(Source.Request);
        UsesItems = source.Contains(Source.Item) || source.Contains(Source.User);
        UsesUserHistory = source.Contains(Source.User);
    }

    /// <summary>Column names, in the model's order.</summary>
    public IReadOnlyList<string> Names { get; }

    public int Count => Names.Count;

    public bool UsesRequestFeatures { get; }

    /// <summary>Some column reads the item catalog (an attribute, or a category through the user's clicks).</summary>
    public bool UsesItems { get; }

    /// <summary>Some column reads the user's recent clicks.</summary>
    public bool UsesUserHistory { get; }

    /// <summary>
    /// Binds <paramref name="modelFeatures"/> to the feature set of <paramref name="surface"/>. Throws
    /// <see cref="FeatureMismatchException"/> naming the first column that is not in it.
    /// </summary>
    public static FeatureBinding Create(IReadOnlyList<string> modelFeatures, string surface, SurfaceOptions options)
    {
        ArgumentNullException.ThrowIfNull(modelFeatures);
        ArgumentNullException.ThrowIfNull(options);
        var source = new Source[modelFeatures.Count];
        var builtIn = new int[modelFeatures.Count];
        var names = new string?[modelFeatures.Count];
        for (var i = 0; i < modelFeatures.Count; i++)
        {
            var name = modelFeatures[i];
            builtIn[i] = IndexOf(BuiltInFeatures.Names, name);
            if (builtIn[i] >= 0)
            {
                source[i] = Source.BuiltIn;
            }
            else if (options.RequestFeatures.Contains(name, StringComparer.Ordinal))
            {
                (source[i], names[i]) = (Source.Request, name);
            }
            else if (name.StartsWith(ContextFeatures.ItemPrefix, StringComparison.Ordinal) && options.ItemFeatures.Contains(name[ContextFeatures.ItemPrefix.Length..], StringComparer.Ordinal))
            {
                (source[i], names[i]) = (Source.Item, name[ContextFeatures.ItemPrefix.Length..]);
            }
            else if (options.UserHistoryFeatures && ContextFeatures.UserNames.Contains(name, StringComparer.Ordinal))
            {
                (source[i], names[i]) = (Source.User, name);
            }
            else
            {
                throw new FeatureMismatchException(
                    $"Model feature '{name}' (column {i}) is not in the feature set of surface '{surface}'. " +
                    $"Built-in features: {string.Join(", ", BuiltInFeatures.Names)}. " +
                    $"Request features configured for the surface (Lasthope:Serving:Surfaces:{surface}:RequestFeatures): " +
                    $"{(options.RequestFeatures.Count == 0 ? "none" : string.Join(", ", options.RequestFeatures))}. " +
                    $"Item attributes (ItemFeatures, as item.NAME): {(options.ItemFeatures.Count == 0 ? "none" : string.Join(", ", options.ItemFeatures))}. " +
                    $"User history (UserHistoryFeatures): {(options.UserHistoryFeatures ? string.Join(", ", ContextFeatures.UserNames) : "off")}. " +
                    "Train the model on these names, or configure the feature.");
            }
        }

        return new FeatureBinding(modelFeatures, source, builtIn, names);
    }

    /// <summary>The built-in features, the surface's request features and its context features: what is logged when no model scored.</summary>
    public static FeatureBinding Everything(string surface, SurfaceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Create([.. BuiltInFeatures.Names, .. options.RequestFeatures, .. ContextFeatures.Of(options)], surface, options);
    }

    /// <summary>Fills one row from the candidate's sources (NaN where a source does not know the feature).</summary>
    public void Fill(in CandidateFeatures candidate, Span<double> row)
    {
        for (var c = 0; c < _source.Length; c++)
        {
            row[c] = _source[c] switch
            {
                Source.BuiltIn => candidate.BuiltIns[_builtIn[c]],
                Source.Request => candidate.RequestFeatures is not null && candidate.RequestFeatures.TryGetValue(_name[c]!, out var value) ? value : double.NaN,
                Source.Item => candidate.Item is not null && candidate.Item.Numbers.TryGetValue(_name[c]!, out var number) ? number : double.NaN,
                _ => User(candidate, _name[c]!),
            };
        }
    }

    private static double User(in CandidateFeatures candidate, string name)
    {
        if (candidate.User is not { } user)
        {
            return double.NaN;
        }

        return name switch
        {
            ContextFeatures.UserClicks => user.Total,
            ContextFeatures.UserItemClicks => user.OnItem(candidate.ItemId),
            _ => candidate.Item?.Category is { } category ? user.InCategory(category) : double.NaN,
        };
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
