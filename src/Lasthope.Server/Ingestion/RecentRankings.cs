using System.Collections.Concurrent;
using Lasthope.Core.Events;

namespace Lasthope.Server.Ingestion;

/// <summary>
/// The last N served rankings, for attributing clicks without a store round trip (a click usually follows its ranking
/// within seconds, before the impression log has even flushed). Bounded: the oldest are evicted first.
/// </summary>
public sealed class RecentRankings
{
    private readonly ConcurrentDictionary<string, RankingLog> _byId = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();
    private readonly int _capacity;

    public RecentRankings(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _capacity = capacity;
    }

    public int Count => _byId.Count;

    public void Add(RankingLog ranking)
    {
        ArgumentNullException.ThrowIfNull(ranking);
        if (_capacity == 0 || !_byId.TryAdd(ranking.RequestId, ranking))
        {
            return;
        }

        _order.Enqueue(ranking.RequestId);
        while (_byId.Count > _capacity && _order.TryDequeue(out var oldest))
        {
            _byId.TryRemove(oldest, out _);
        }
    }

    public RankingLog? Find(string requestId) => _byId.GetValueOrDefault(requestId);

    /// <summary>Up to <paramref name="count"/> remembered rankings of <paramref name="surface"/> that carry features.</summary>
    public IReadOnlyList<RankingLog> WithFeatures(string surface, int count)
    {
        var found = new List<RankingLog>(count);
        foreach (var ranking in _byId.Values)
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
