using System.Collections.Concurrent;
using Lasthope.Core.Events;

namespace Lasthope.Server.State;

/// <summary>What click attribution needs of a served ranking: its segment, surface, and the items with their positions.</summary>
/// <param name="Segment">The segment it was served for.</param>
/// <param name="Surface">Where it was shown.</param>
/// <param name="ItemIds">The served items.</param>
/// <param name="Positions">
/// Their positions, or null when they are 1, 2, 3... in order (every ranking the server serves; imported logs may
/// hold a single item shown at position 3, say).
/// </param>
public sealed record ServedList(string Segment, string Surface, string[] ItemIds, int[]? Positions = null)
{
    /// <summary>The 1-based position of <paramref name="itemId"/>, or null when it was not served.</summary>
    public int? PositionOf(string itemId)
    {
        var index = Array.IndexOf(ItemIds, itemId);
        return index < 0 ? null : Positions is null ? index + 1 : Positions[index];
    }

    public static ServedList Of(RankingLog ranking, Func<string, string>? intern = null)
    {
        ArgumentNullException.ThrowIfNull(ranking);
        var items = ranking.Items;
        var ids = new string[items.Count];
        var contiguous = true;
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = intern is null ? items[i].ItemId : intern(items[i].ItemId);
            contiguous &= items[i].Position == i + 1;
        }

        // Served rankings are always 1, 2, 3...: only an imported one pays for a positions array.
        return new ServedList(ranking.Segment, ranking.Surface, ids, contiguous ? null : [.. items.Select(i => i.Position)]);
    }
}

/// <summary>
/// Served rankings kept in memory. For click attribution without a store round trip (a click usually follows its
/// ranking within seconds, before the impression log has even flushed), the last N rankings in a compact form (about
/// 150 bytes each); for explanations and model warm-up, the last <see cref="FullCapacity"/> rankings whole, with their
/// feature vectors. Both are bounded: the oldest are evicted first. Keeping the big tier compact keeps the GC heap
/// small, which keeps collection pauses out of the latency budget.
/// </summary>
public sealed class RecentRankings
{
    /// <summary>Whole rankings kept for explain and warm-up.</summary>
    public const int FullCapacity = 2_048;

    private readonly ConcurrentDictionary<string, ServedList> _byId = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();
    private readonly ConcurrentDictionary<string, RankingLog> _full = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _fullOrder = new();
    private readonly int _capacity;
    private readonly Func<string, string>? _intern;

    /// <param name="capacity">Compact rankings kept.</param>
    /// <param name="intern">Maps an item id to a shared instance of the same string (the counters' own), or null.</param>
    public RecentRankings(int capacity, Func<string, string>? intern = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _capacity = capacity;
        _intern = intern;
    }

    public int Count => _byId.Count;

    public void Add(RankingLog ranking)
    {
        ArgumentNullException.ThrowIfNull(ranking);
        if (!TryAdd(ranking.RequestId, ServedList.Of(ranking, _intern)))
        {
            return;
        }

        _full[ranking.RequestId] = ranking;
        _fullOrder.Enqueue(ranking.RequestId);
        while (_full.Count > FullCapacity && _fullOrder.TryDequeue(out var oldest))
        {
            _full.TryRemove(oldest, out _);
        }
    }

    /// <summary>Remembers a ranking another server served (followed from the log), for click attribution only.</summary>
    public void Add(string requestId, ServedList served)
    {
        ArgumentNullException.ThrowIfNull(requestId);
        TryAdd(requestId, served);
    }

    private bool TryAdd(string requestId, ServedList served)
    {
        if (_capacity == 0 || !_byId.TryAdd(requestId, served))
        {
            return false;
        }

        _order.Enqueue(requestId);
        while (_byId.Count > _capacity && _order.TryDequeue(out var oldest))
        {
            _byId.TryRemove(oldest, out _);
        }

        return true;
    }

    /// <summary>The served list of <paramref name="requestId"/>, if it is among the last N.</summary>
    public ServedList? Find(string requestId) => _byId.GetValueOrDefault(requestId);

    /// <summary>The whole ranking, if it is among the last <see cref="FullCapacity"/>.</summary>
    public RankingLog? FindFull(string requestId) => _full.GetValueOrDefault(requestId);

    /// <summary>Up to <paramref name="count"/> remembered rankings of <paramref name="surface"/> that carry features.</summary>
    public IReadOnlyList<RankingLog> WithFeatures(string surface, int count)
    {
        var found = new List<RankingLog>(count);
        foreach (var ranking in _full.Values)
        {
            if (ranking.Surface == surface && ranking.Features is not null)
            {
                found.Add(ranking);
                if (found.Count == count)
                {
                    break;
                }
            }
        }

        return found;
    }
}
