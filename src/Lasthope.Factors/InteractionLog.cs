namespace Lasthope.Factors;

/// <summary>
/// Raw interactions in columns (user index, item index, weight, optional timestamp), one entry per event, with the
/// id maps that name the indices. Repeated (user, item) pairs stay separate here; <see cref="ToMatrix()"/> sums them.
/// This is what splits work on (a held-out pair must take all of its events with it) and what a CSV or an event
/// store reads into.
/// </summary>
public sealed class InteractionLog
{
    private readonly int[] _users;
    private readonly int[] _items;
    private readonly float[] _weights;
    private readonly long[]? _timestamps;

    internal InteractionLog(IdMap users, IdMap items, int[] userIndices, int[] itemIndices, float[] weights, long[]? timestamps)
    {
        Users = users;
        Items = items;
        _users = userIndices;
        _items = itemIndices;
        _weights = weights;
        _timestamps = timestamps;
    }

    public IdMap Users { get; }

    public IdMap Items { get; }

    /// <summary>Number of events.</summary>
    public int Count => _users.Length;

    public ReadOnlySpan<int> UserIndices => _users;

    public ReadOnlySpan<int> ItemIndices => _items;

    public ReadOnlySpan<float> Weights => _weights;

    /// <summary>True when every event has a timestamp (needed by leave-last-k splits).</summary>
    public bool HasTimestamps => _timestamps is not null;

    /// <summary>Event times (any monotonic unit, for example Unix milliseconds); empty when <see cref="HasTimestamps"/> is false.</summary>
    public ReadOnlySpan<long> Timestamps => _timestamps;

    /// <summary>All events summed into a user x item matrix over this log's id maps.</summary>
    public InteractionMatrix ToMatrix() => ToMatrix(default);

    /// <summary>
    /// The events whose <paramref name="include"/> flag is true (all when the span is empty), summed into a user x item
    /// matrix over this log's full id maps, so that indices agree with the log's: a user with no included event is an
    /// empty row.
    /// </summary>
    public InteractionMatrix ToMatrix(ReadOnlySpan<bool> include)
    {
        if (include.IsEmpty)
        {
            return new InteractionMatrix(Users, Items, CsrMatrix.FromCoordinates(Users.Count, Items.Count, _users, _items, _weights));
        }

        if (include.Length != Count)
        {
            throw new ArgumentException($"{include.Length} flags for {Count} events.", nameof(include));
        }

        var n = 0;
        foreach (var f in include)
        {
            n += f ? 1 : 0;
        }

        var u = new int[n];
        var i = new int[n];
        var w = new float[n];
        var j = 0;
        for (var k = 0; k < include.Length; k++)
        {
            if (include[k])
            {
                u[j] = _users[k];
                i[j] = _items[k];
                w[j] = _weights[k];
                j++;
            }
        }

        return new InteractionMatrix(Users, Items, CsrMatrix.FromCoordinates(Users.Count, Items.Count, u, i, w));
    }
}

/// <summary>
/// Accumulates events into an <see cref="InteractionLog"/>, assigning indices to ids in first-seen order. Optionally
/// starts from known id maps (for example a trained model's items), so that known ids keep their indices and new ids
/// are appended after them. Not thread-safe.
/// </summary>
public sealed class InteractionLogBuilder
{
    private readonly List<string> _userIds = [];
    private readonly Dictionary<string, int> _userIndex = new(StringComparer.Ordinal);
    private readonly List<string> _itemIds = [];
    private readonly Dictionary<string, int> _itemIndex = new(StringComparer.Ordinal);
    private readonly List<int> _users = [];
    private readonly List<int> _items = [];
    private readonly List<float> _weights = [];
    private List<long>? _timestamps;
    private bool _sawMissingTimestamp;

    /// <param name="knownUsers">Ids that keep their indices 0..Count-1; null to start empty.</param>
    /// <param name="knownItems">Ids that keep their indices 0..Count-1; null to start empty.</param>
    public InteractionLogBuilder(IdMap? knownUsers = null, IdMap? knownItems = null)
    {
        foreach (var id in knownUsers ?? IdMap.Empty)
        {
            _userIndex.Add(id, _userIds.Count);
            _userIds.Add(id);
        }

        foreach (var id in knownItems ?? IdMap.Empty)
        {
            _itemIndex.Add(id, _itemIds.Count);
            _itemIds.Add(id);
        }
    }

    /// <summary>Events added so far.</summary>
    public int Count => _users.Count;

    /// <summary>Adds one event.</summary>
    /// <param name="userId">The user (client).</param>
    /// <param name="itemId">The item (keyword).</param>
    /// <param name="weight">
    /// The event's strength r: confidence grows with |r|; r &gt; 0 means preference 1 and r &lt; 0 preference 0
    /// (an explicit negative); must be finite.
    /// </param>
    /// <param name="timestamp">Event time in any monotonic unit; give it for every event or for none.</param>
    public void Add(string userId, string itemId, float weight = 1f, long? timestamp = null)
    {
        ArgumentNullException.ThrowIfNull(userId);
        ArgumentNullException.ThrowIfNull(itemId);
        if (!float.IsFinite(weight))
        {
            throw new ArgumentOutOfRangeException(nameof(weight), weight, "Weights must be finite.");
        }

        _users.Add(Intern(userId, _userIds, _userIndex));
        _items.Add(Intern(itemId, _itemIds, _itemIndex));
        _weights.Add(weight);
        if (timestamp is { } t)
        {
            if (_timestamps is null && _users.Count == 1)
            {
                _timestamps = [];
            }

            _timestamps?.Add(t);
        }
        else
        {
            _sawMissingTimestamp = true;
        }
    }

    /// <summary>The log; timestamps are kept only when every event had one.</summary>
    public InteractionLog Build()
    {
        var timestamps = _timestamps is not null && !_sawMissingTimestamp && _timestamps.Count == _users.Count ? _timestamps.ToArray() : null;
        return new InteractionLog(
            IdMap.Adopt(_userIds, new Dictionary<string, int>(_userIndex, StringComparer.Ordinal)),
            IdMap.Adopt(_itemIds, new Dictionary<string, int>(_itemIndex, StringComparer.Ordinal)),
            [.. _users],
            [.. _items],
            [.. _weights],
            timestamps);
    }

    private static int Intern(string id, List<string> ids, Dictionary<string, int> index)
    {
        if (!index.TryGetValue(id, out var i))
        {
            i = ids.Count;
            index.Add(id, i);
            ids.Add(id);
        }

        return i;
    }
}
