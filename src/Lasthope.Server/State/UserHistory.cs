using System.Collections.Concurrent;

namespace Lasthope.Server.State;

/// <summary>
/// Each user's latest clicks in memory (at most <see cref="PerUser"/>, within <see cref="Window"/> of event time),
/// fed by ingestion and rebuilt from the store's events at start: what the user-history features read. Bounded by
/// <paramref name="capacity"/> users: when full, users whose latest click is older than the window are dropped, and
/// if that frees less than a tenth the map is cleared and refills from traffic (a feature then reads 0 clicks, never a
/// wrong one), so a flood of new users costs one scan per tenth of the capacity, not one per user.
/// </summary>
public sealed class UserHistory(int capacity = 200_000)
{
    /// <summary>Clicks kept per user.</summary>
    public const int PerUser = 32;

    /// <summary>How far back a click counts.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromDays(30);

    private readonly ConcurrentDictionary<string, Clicks> _users = new(StringComparer.Ordinal);
    private readonly Lock _trim = new();

    public int Count => _users.Count;

    /// <summary>Remembers a click (an event of positive weight) of <paramref name="userId"/> on <paramref name="itemId"/> at <paramref name="time"/>.</summary>
    public void Record(string userId, string itemId, DateTimeOffset time)
    {
        if (!_users.TryGetValue(userId, out var clicks))
        {
            if (_users.Count >= capacity)
            {
                Trim(time);
            }

            clicks = _users.GetOrAdd(userId, static _ => new Clicks());
        }

        clicks.Add(itemId, time.UtcTicks);
    }

    /// <summary>The user's clicks within the window before <paramref name="now"/>, newest first, into <paramref name="items"/>; returns how many.</summary>
    public int Recent(string userId, DateTimeOffset now, Span<string?> items)
    {
        return _users.TryGetValue(userId, out var clicks) ? clicks.Copy((now - Window).UtcTicks, now.UtcTicks, items) : 0;
    }

    /// <summary>Replaces what is remembered with what <paramref name="other"/> remembers (a snapshot read aside).</summary>
    public void ReplaceWith(UserHistory other)
    {
        ArgumentNullException.ThrowIfNull(other);
        _users.Clear();
        foreach (var (user, clicks) in other._users)
        {
            _users[user] = clicks;
        }
    }

    /// <summary>Writes every user's clicks, oldest first (see <see cref="ReadFrom"/>).</summary>
    public void WriteTo(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var users = _users.ToArray();
        writer.Write(users.Length);
        foreach (var (user, clicks) in users)
        {
            writer.Write(user);
            clicks.WriteTo(writer);
        }
    }

    /// <summary>Adds the clicks <see cref="WriteTo"/> wrote, as if recorded again in their order.</summary>
    public void ReadFrom(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        for (var users = reader.ReadInt32(); users > 0; users--)
        {
            var user = reader.ReadString();
            for (var clicks = reader.ReadInt32(); clicks > 0; clicks--)
            {
                var item = reader.ReadString();
                Record(user, item, new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero));
            }
        }
    }

    private void Trim(DateTimeOffset now)
    {
        lock (_trim)
        {
            if (_users.Count < capacity)
            {
                return;
            }

            var oldest = (now - Window).UtcTicks;
            foreach (var (user, clicks) in _users)
            {
                if (clicks.Latest < oldest)
                {
                    _users.TryRemove(user, out _);
                }
            }

            // Dropping only a few would make every new user scan the map again: below a tenth freed, start afresh.
            if (_users.Count > capacity * 0.9)
            {
                _users.Clear();
            }
        }
    }

    /// <summary>A ring of the latest clicks of one user.</summary>
    private sealed class Clicks
    {
        private readonly string[] _items = new string[PerUser];
        private readonly long[] _ticks = new long[PerUser];
        private readonly Lock _gate = new();
        private int _next;
        private int _count;

        public long Latest { get; private set; }

        public void Add(string itemId, long ticks)
        {
            lock (_gate)
            {
                _items[_next] = itemId;
                _ticks[_next] = ticks;
                _next = (_next + 1) % PerUser;
                _count = Math.Min(_count + 1, PerUser);
                Latest = Math.Max(Latest, ticks);
            }
        }

        public void WriteTo(BinaryWriter writer)
        {
            lock (_gate)
            {
                writer.Write(_count);
                for (var k = _count; k >= 1; k--)
                {
                    var at = (_next - k + PerUser) % PerUser;
                    writer.Write(_items[at]);
                    writer.Write(_ticks[at]);
                }
            }
        }

        public int Copy(long from, long to, Span<string?> items)
        {
            lock (_gate)
            {
                var copied = 0;
                for (var k = 1; k <= _count && copied < items.Length; k++)
                {
                    var at = (_next - k + PerUser) % PerUser;
                    if (_ticks[at] >= from && _ticks[at] <= to)
                    {
                        items[copied++] = _items[at];
                    }
                }

                return copied;
            }
        }
    }
}
