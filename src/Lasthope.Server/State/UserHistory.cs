using System.Collections.Concurrent;

namespace Lasthope.Server.State;

/// <summary>One event of a user as <see cref="UserHistory"/> keeps it.</summary>
/// <param name="ItemId">The item.</param>
/// <param name="Weight">The event type's weight (a click's is positive).</param>
/// <param name="Time">When it happened (event time).</param>
public readonly record struct UserEvent(string ItemId, double Weight, DateTimeOffset Time);

/// <summary>
/// Each user's latest events in memory (at most <see cref="EventsPerUser"/>), fed by ingestion and the log the server
/// follows, rebuilt at start from the snapshot and the store's log: what the user-history features read (the latest
/// <see cref="PerUser"/> clicks within <see cref="Window"/>) and what recommendations fold a user in from (the latest
/// events within the window). The store keeps no index by user: one cost ingestion 6x (docs/performance.md).
/// </summary>
/// <remarks>
/// Bounded by <paramref name="capacity"/> users and <paramref name="capacity"/> x <see cref="PerUser"/> events in all
/// (a user's ring grows by doubling as their events come): when either is full, users whose latest event is older
/// than the window are dropped, and if that frees less than a tenth the map is cleared and refills from traffic (a
/// feature then reads 0 clicks and a recommendation knows nothing of the user, never something wrong), so a flood
/// of new users costs one scan per tenth of the capacity, not one per user.
/// </remarks>
/// <param name="capacity">The most users remembered.</param>
/// <param name="eventsPerUser">The most events remembered per user (at least <see cref="PerUser"/>).</param>
public sealed class UserHistory(int capacity = 200_000, int eventsPerUser = UserHistory.DefaultEventsPerUser)
{
    /// <summary>Clicks the user-history features read per user.</summary>
    public const int PerUser = 32;

    /// <summary>Events kept per user unless told otherwise (the default of Recommend:MaxUserEvents).</summary>
    public const int DefaultEventsPerUser = 200;

    /// <summary>How far back an event counts.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromDays(30);

    private readonly ConcurrentDictionary<string, Ring> _users = new(StringComparer.Ordinal);
    private readonly Lock _trim = new();
    private readonly long _eventBudget = (long)capacity * PerUser;
    private long _slots;

    /// <summary>Users remembered.</summary>
    public int Count => _users.Count;

    /// <summary>The most events remembered per user.</summary>
    public int EventsPerUser { get; } = Math.Max(PerUser, eventsPerUser);

    /// <summary>Remembers a click of weight 1 (see <see cref="Record(string, string, double, DateTimeOffset)"/>).</summary>
    public void Record(string userId, string itemId, DateTimeOffset time) => Record(userId, itemId, 1, time);

    /// <summary>Remembers an event of <paramref name="userId"/> on <paramref name="itemId"/> of <paramref name="weight"/> at <paramref name="time"/>.</summary>
    public void Record(string userId, string itemId, double weight, DateTimeOffset time)
    {
        if (!_users.TryGetValue(userId, out var ring))
        {
            if (_users.Count >= capacity || Interlocked.Read(ref _slots) >= _eventBudget)
            {
                Trim(time);
            }

            ring = _users.GetOrAdd(userId, _ => new Ring(this));
        }

        ring.Add(itemId, weight, time.UtcTicks);
    }

    /// <summary>The user's clicks (positive weight) within the window before <paramref name="now"/>, newest first, into <paramref name="items"/>; returns how many.</summary>
    public int Recent(string userId, DateTimeOffset now, Span<string?> items)
    {
        return _users.TryGetValue(userId, out var ring) ? ring.CopyClicks((now - Window).UtcTicks, now.UtcTicks, items) : 0;
    }

    /// <summary>The user's latest events within the window before <paramref name="now"/>, newest first, at most <paramref name="limit"/>.</summary>
    public IReadOnlyList<UserEvent> Latest(string userId, DateTimeOffset now, int limit)
    {
        return limit > 0 && _users.TryGetValue(userId, out var ring) ? ring.Latest((now - Window).UtcTicks, now.UtcTicks, limit) : [];
    }

    /// <summary>Replaces what is remembered with what <paramref name="other"/> remembers (a snapshot read aside).</summary>
    public void ReplaceWith(UserHistory other)
    {
        ArgumentNullException.ThrowIfNull(other);
        lock (_trim)
        {
            _users.Clear();
            long slots = 0;
            foreach (var (user, ring) in other._users)
            {
                var copy = ring.CopyFor(this);
                _users[user] = copy;
                slots += copy.Slots;
            }

            Interlocked.Exchange(ref _slots, slots);
        }
    }

    /// <summary>Writes every user's events, oldest first (see <see cref="ReadFrom"/>).</summary>
    public void WriteTo(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var users = _users.ToArray();
        writer.Write(users.Length);
        foreach (var (user, ring) in users)
        {
            writer.Write(user);
            ring.WriteTo(writer);
        }
    }

    /// <summary>Adds the events <see cref="WriteTo"/> wrote, as if recorded again in their order.</summary>
    public void ReadFrom(BinaryReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        for (var users = reader.ReadInt32(); users > 0; users--)
        {
            var user = reader.ReadString();
            for (var events = reader.ReadInt32(); events > 0; events--)
            {
                var item = reader.ReadString();
                var weight = reader.ReadDouble();
                Record(user, item, weight, new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero));
            }
        }
    }

    /// <summary>An empty history with the same bounds.</summary>
    public UserHistory CreateEmpty() => new(capacity, EventsPerUser);

    private void Trim(DateTimeOffset now)
    {
        lock (_trim)
        {
            if (_users.Count < capacity && Interlocked.Read(ref _slots) < _eventBudget)
            {
                return;
            }

            var oldest = (now - Window).UtcTicks;
            foreach (var (user, ring) in _users)
            {
                if (ring.LatestTicks() < oldest && _users.TryRemove(user, out _))
                {
                    Interlocked.Add(ref _slots, -ring.Slots);
                }
            }

            // Dropping only a few would make every new user scan the map again: below a tenth freed, start afresh.
            if (_users.Count > capacity * 0.9 || Interlocked.Read(ref _slots) > _eventBudget * 0.9)
            {
                _users.Clear();
                Interlocked.Exchange(ref _slots, 0);
            }
        }
    }

    /// <summary>A ring of the latest events of one user, grown by doubling up to <see cref="EventsPerUser"/>.</summary>
    private sealed class Ring(UserHistory owner)
    {
        private const int InitialSlots = 4;
        private readonly Lock _gate = new();
        private string[] _items = new string[InitialSlots];
        private double[] _weights = new double[InitialSlots];
        private long[] _ticks = new long[InitialSlots];
        private int _next;
        private int _count;
        private long _latest;
        private bool _counted;

        public int Slots => _items.Length;

        public long LatestTicks()
        {
            lock (_gate)
            {
                return _latest;
            }
        }

        public void Add(string itemId, double weight, long ticks)
        {
            var grown = 0;
            lock (_gate)
            {
                if (!_counted)
                {
                    _counted = true;
                    grown = _items.Length;
                }

                if (_count == _items.Length && _items.Length < owner.EventsPerUser)
                {
                    grown += Grow(Math.Min(owner.EventsPerUser, _items.Length * 2));
                }

                _items[_next] = itemId;
                _weights[_next] = weight;
                _ticks[_next] = ticks;
                _next = (_next + 1) % _items.Length;
                _count = Math.Min(_count + 1, _items.Length);
                _latest = Math.Max(_latest, ticks);
            }

            if (grown > 0)
            {
                Interlocked.Add(ref owner._slots, grown);
            }
        }

        public Ring CopyFor(UserHistory other)
        {
            var copy = new Ring(other);
            lock (_gate)
            {
                for (var k = Math.Min(_count, other.EventsPerUser); k >= 1; k--)
                {
                    var at = At(k);
                    copy.Add(_items[at], _weights[at], _ticks[at]);
                }
            }

            return copy;
        }

        public void WriteTo(BinaryWriter writer)
        {
            lock (_gate)
            {
                writer.Write(_count);
                for (var k = _count; k >= 1; k--)
                {
                    var at = At(k);
                    writer.Write(_items[at]);
                    writer.Write(_weights[at]);
                    writer.Write(_ticks[at]);
                }
            }
        }

        public int CopyClicks(long from, long to, Span<string?> items)
        {
            lock (_gate)
            {
                var copied = 0;
                for (var k = 1; k <= _count && copied < items.Length; k++)
                {
                    var at = At(k);
                    if (_weights[at] > 0 && _ticks[at] >= from && _ticks[at] <= to)
                    {
                        items[copied++] = _items[at];
                    }
                }

                return copied;
            }
        }

        public UserEvent[] Latest(long from, long to, int limit)
        {
            lock (_gate)
            {
                var events = new List<UserEvent>(Math.Min(limit, _count));
                for (var k = 1; k <= _count && events.Count < limit; k++)
                {
                    var at = At(k);
                    if (_ticks[at] >= from && _ticks[at] <= to)
                    {
                        events.Add(new UserEvent(_items[at], _weights[at], new DateTimeOffset(_ticks[at], TimeSpan.Zero)));
                    }
                }

                return [.. events];
            }
        }

        /// <summary>The slot of the k-th newest event (k from 1).</summary>
        private int At(int k) => (_next - k + _items.Length) % _items.Length;

        /// <summary>Copies the events, oldest first, into arrays of <paramref name="size"/> slots; returns the slots added.</summary>
        private int Grow(int size)
        {
            var items = new string[size];
            var weights = new double[size];
            var ticks = new long[size];
            for (var k = _count; k >= 1; k--)
            {
                var at = At(k);
                items[_count - k] = _items[at];
                weights[_count - k] = _weights[at];
                ticks[_count - k] = _ticks[at];
            }

            var added = size - _items.Length;
            (_items, _weights, _ticks, _next) = (items, weights, ticks, _count % size);
            return added;
        }
    }
}
