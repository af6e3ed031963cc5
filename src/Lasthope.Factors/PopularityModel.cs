namespace Lasthope.Factors;

/// <summary>
/// The popularity baseline and cold-start recommender: items ranked by the share of users who used them, overall and
/// per segment. Immutable and thread-safe.
/// </summary>
/// <remarks>
/// A segment's list ranks the items its own users used; a segment with fewer than the minimum users, or none given,
/// uses the overall list; when a segment's list runs short (it used fewer items than asked), the rest is filled from
/// the overall list. Scores are the share of the (segment's) users with a positive interaction, so a filled item's
/// score is its overall share and a list's scores need not decrease across the seam.
/// </remarks>
public sealed class PopularityModel
{
    private readonly float[] _overall;
    private readonly Dictionary<string, float[]> _segments;

    private PopularityModel(IdMap items, float[] overall, Dictionary<string, float[]> segments, int users)
    {
        Items = items;
        _overall = overall;
        _segments = segments;
        Users = users;
    }

    /// <summary>The catalogue (indices agree with the data the model was built from).</summary>
    public IdMap Items { get; }

    /// <summary>Users the shares were computed over.</summary>
    public int Users { get; }

    /// <summary>Segments with a list of their own.</summary>
    public IReadOnlyCollection<string> Segments => _segments.Keys;

    /// <summary>Builds overall and per-segment popularity from the same interactions ALS trains on.</summary>
    /// <param name="data">The interactions; a cell counts when its weight is positive.</param>
    /// <param name="segmentOf">The segment of a user id, or null when unknown; null for overall popularity only.</param>
    /// <param name="minSegmentUsers">Segments with fewer users fall back to the overall list.</param>
    public static PopularityModel Build(InteractionMatrix data, Func<string, string?>? segmentOf = null, int minSegmentUsers = 20)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(minSegmentUsers, 1);
        var items = data.Items.Count;
        var overall = new int[items];
        var perSegment = new Dictionary<string, (int Users, int[] Counts)>(StringComparer.Ordinal);
        var activeUsers = 0;
        for (var u = 0; u < data.Users.Count; u++)
        {
            var idx = data.ByUser.RowIndices(u);
            var val = data.ByUser.RowValues(u);
            if (idx.IsEmpty)
            {
                continue;
            }

            activeUsers++;
            var segment = segmentOf?.Invoke(data.Users[u]);
            int[]? segmentCounts = null;
            if (segment is not null)
            {
                if (!perSegment.TryGetValue(segment, out var entry))
                {
                    entry = (0, new int[items]);
                }

                perSegment[segment] = (entry.Users + 1, entry.Counts);
                segmentCounts = entry.Counts;
            }

            for (var k = 0; k < idx.Length; k++)
            {
                if (val[k] > 0)
                {
                    overall[idx[k]]++;
                    if (segmentCounts is not null)
                    {
                        segmentCounts[idx[k]]++;
                    }
                }
            }
        }

        var segments = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var (name, (users, counts)) in perSegment)
        {
            if (users >= minSegmentUsers)
            {
                segments[name] = Shares(counts, users);
            }
        }

        return new PopularityModel(data.Items, Shares(overall, activeUsers), segments, activeUsers);
    }

    /// <summary>Overall popularity from per-item user counts (for example <see cref="AlsModel.ItemUserCounts"/>).</summary>
    public static PopularityModel FromCounts(IdMap items, ReadOnlySpan<int> counts, int users)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (counts.Length != items.Count)
        {
            throw new ArgumentException($"{counts.Length} counts for {items.Count} items.", nameof(counts));
        }

        return new PopularityModel(items, Shares(counts, Math.Max(1, users)), new(StringComparer.Ordinal), users);
    }

    /// <summary>True when <paramref name="segment"/> has a list of its own.</summary>
    public bool HasSegment(string segment) => _segments.ContainsKey(segment);

    /// <summary>
    /// The <c>destination.Length</c> most popular items for a segment (null or unknown: overall), best first, never an
    /// excluded item and never an item nobody used.
    /// </summary>
    /// <param name="segment">The user's segment, or null.</param>
    /// <param name="destination">Receives the list; its length is the count asked.</param>
    /// <param name="exclude">Item indices never to return (a user's seen items, a request's exclusions); any order.</param>
    /// <param name="excludeMore">More item indices never to return, so two lists need not be concatenated.</param>
    public int TopN(string? segment, Span<ScoredItem> destination, ReadOnlySpan<int> exclude = default, ReadOnlySpan<int> excludeMore = default)
    {
        if (segment is not null && _segments.TryGetValue(segment, out var shares))
        {
            var n = TopKScan.Select(new TopKScan.ArrayScorer(shares), Items.Count, exclude, excludeMore, destination);
            if (n == destination.Length)
            {
                return n;
            }

            // Fill from the overall list, skipping what the segment already gave.
            Span<int> chosen = n <= 256 ? stackalloc int[n] : new int[n];
            for (var k = 0; k < n; k++)
            {
                chosen[k] = destination[k].Item;
            }

            var merged = new int[exclude.Length + excludeMore.Length + n];
            exclude.CopyTo(merged);
            excludeMore.CopyTo(merged.AsSpan(exclude.Length));
            chosen.CopyTo(merged.AsSpan(exclude.Length + excludeMore.Length));
            return n + TopKScan.Select(new TopKScan.ArrayScorer(_overall), Items.Count, merged, default, destination[n..]);
        }

        return TopKScan.Select(new TopKScan.ArrayScorer(_overall), Items.Count, exclude, excludeMore, destination);
    }

    /// <summary>Popular items by id; allocates the result. Unknown excluded ids are ignored.</summary>
    public IReadOnlyList<Recommendation> TopN(string? segment, int count, IEnumerable<string>? exclude = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var excluded = new List<int>();
        foreach (var id in exclude ?? [])
        {
            if (Items.TryGetIndex(id, out var i))
            {
                excluded.Add(i);
            }
        }

        var buffer = new ScoredItem[count];
        var n = TopN(segment, buffer, excluded.ToArray());
        var result = new Recommendation[n];
        for (var k = 0; k < n; k++)
        {
            result[k] = new Recommendation(Items[buffer[k].Item], buffer[k].Score);
        }

        return result;
    }

    /// <summary>Share of users per item; items nobody used get -infinity, which top-k skips.</summary>
    private static float[] Shares(ReadOnlySpan<int> counts, int users)
    {
        var shares = new float[counts.Length];
        for (var i = 0; i < counts.Length; i++)
        {
            shares[i] = counts[i] > 0 ? (float)counts[i] / Math.Max(1, users) : float.NegativeInfinity;
        }

        return shares;
    }
}
