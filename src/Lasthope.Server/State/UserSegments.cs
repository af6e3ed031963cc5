using System.Collections.Concurrent;

namespace Lasthope.Server.State;

/// <summary>
/// What segment each user was last served in, so a click without a ranking still counts for its user's segment.
/// A bounded in-memory map in front of the store (which remembers every user). When full it is cleared and refills
/// from traffic: a simple bound that never serves a wrong segment, at the cost of some store reads after a reset.
/// </summary>
public sealed class UserSegments(int capacity = 1_000_000)
{
    private readonly ConcurrentDictionary<string, string> _segments = new(StringComparer.Ordinal);

    public void Remember(string userId, string segment)
    {
        if (_segments.Count >= capacity)
        {
            _segments.Clear();
        }

        _segments[userId] = segment;
    }

    public string? Find(string userId) => _segments.GetValueOrDefault(userId);
}
