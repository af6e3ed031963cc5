namespace Lasthope.Evaluation;

/// <summary>
/// Seeded train/test splits of an interaction log for top-k recommendation. The unit held out is a (user, item) pair
/// with all of its events, so that a test item never leaks into training through a repeated event. Each function
/// returns one flag per event: true when the event is in the test part.
/// </summary>
/// <remarks>
/// Randomness is drawn per user from a generator seeded by (seed, user index), so a user's split does not depend on
/// the order of the log or on the other users: the same log and seed give the same split.
/// </remarks>
public static class Splits
{
    /// <summary>
    /// Per-user random holdout: of each user's n distinct items, t = clamp(round(fraction * n), 1, n - minTrainItems)
    /// chosen uniformly at random go to the test part (rounding half away from zero). Users with at most
    /// <paramref name="minTrainItems"/> distinct items stay entirely in training.
    /// </summary>
    /// <param name="users">User index per event.</param>
    /// <param name="items">Item index per event.</param>
    /// <param name="fraction">Share of each user's items to hold out, in (0, 1).</param>
    /// <param name="seed">Seed of the choice.</param>
    /// <param name="minTrainItems">Distinct items each user keeps in training (at least 1).</param>
    public static bool[] PerUserHoldout(ReadOnlySpan<int> users, ReadOnlySpan<int> items, double fraction, int seed, int minTrainItems = 1)
    {
        CheckLengths(users.Length, items.Length, null);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(fraction, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(fraction, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(minTrainItems, 1);
        var pairs = Pairs.Build(users, items, default);
        var isTest = new bool[users.Length];
        foreach (var (user, start, count) in pairs.Users())
        {
            var held = Math.Min((int)Math.Round(fraction * count, MidpointRounding.AwayFromZero), count - minTrainItems);
            held = Math.Max(held, count > minTrainItems ? 1 : 0);
            if (held <= 0)
            {
                continue;
            }

            // Partial Fisher-Yates over the user's distinct pairs (in item order): the first `held` are the test items.
            var order = new int[count];
            for (var k = 0; k < count; k++)
            {
                order[k] = start + k;
            }

            var random = new Random(UserSeed(seed, user));
            for (var k = 0; k < held; k++)
            {
                var j = k + random.Next(count - k);
                (order[k], order[j]) = (order[j], order[k]);
                pairs.MarkTest(order[k], isTest);
            }
        }

        return isTest;
    }

    /// <summary>
    /// Leave-last-k by time: each user's k most recent distinct items (a pair's time is that of its latest event;
    /// equal times are broken by log order, later wins) go to the test part, keeping at least
    /// <paramref name="minTrainItems"/> in training.
    /// </summary>
    /// <param name="users">User index per event.</param>
    /// <param name="items">Item index per event.</param>
    /// <param name="timestamps">Event time per event.</param>
    /// <param name="k">Items per user to hold out (at least 1).</param>
    /// <param name="minTrainItems">Distinct items each user keeps in training (at least 1).</param>
    public static bool[] LeaveLastK(ReadOnlySpan<int> users, ReadOnlySpan<int> items, ReadOnlySpan<long> timestamps, int k, int minTrainItems = 1)
    {
        CheckLengths(users.Length, items.Length, timestamps.Length);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(minTrainItems, 1);
        var pairs = Pairs.Build(users, items, timestamps);
        var isTest = new bool[users.Length];
        foreach (var (_, start, count) in pairs.Users())
        {
            var held = Math.Min(k, count - minTrainItems);
            if (held <= 0)
            {
                continue;
            }

            var order = new int[count];
            for (var j = 0; j < count; j++)
            {
                order[j] = start + j;
            }

            Array.Sort(order, (a, b) =>
            {
                var c = pairs.LastTime[b].CompareTo(pairs.LastTime[a]);
                return c != 0 ? c : pairs.LastEvent[b].CompareTo(pairs.LastEvent[a]);
            });
            for (var j = 0; j < held; j++)
            {
                pairs.MarkTest(order[j], isTest);
            }
        }

        return isTest;
    }

    /// <summary>
    /// Holds out whole users: each user index in [0, userCount) is a test user with probability
    /// <paramref name="fraction"/>, independently and seeded (for fold-in protocols: test users are unseen in training).
    /// </summary>
    public static bool[] HoldOutUsers(int userCount, double fraction, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(userCount);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(fraction, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(fraction, 1);
        var result = new bool[userCount];
        for (var u = 0; u < userCount; u++)
        {
            result[u] = new Random(UserSeed(seed, u)).NextDouble() < fraction;
        }

        return result;
    }

    /// <summary>A per-user seed: SplitMix64 of (seed, user), so nearby users get unrelated streams.</summary>
    internal static int UserSeed(int seed, int user)
    {
        var z = ((ulong)(uint)seed << 32) ^ (uint)user;
        z += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        z ^= z >> 31;
        return (int)(z & int.MaxValue);
    }

    private static void CheckLengths(int users, int items, int? timestamps)
    {
        if (users != items || (timestamps is { } t && t != users))
        {
            throw new ArgumentException($"Per-event arrays differ in length: {users} users, {items} items{(timestamps is { } n ? $", {n} timestamps" : "")}.");
        }
    }

    /// <summary>Distinct (user, item) pairs, grouped by user and sorted by item, with the events of each pair.</summary>
    private sealed class Pairs
    {
        private int[] _pairStart = [];
        private int[] _events = [];
        private int[] _userStart = [];
        private int[] _userOf = [];

        public long[] LastTime { get; private set; } = [];

        public int[] LastEvent { get; private set; } = [];

        public static Pairs Build(ReadOnlySpan<int> users, ReadOnlySpan<int> items, ReadOnlySpan<long> timestamps)
        {
            var n = users.Length;
            var order = new int[n];
            for (var k = 0; k < n; k++)
            {
                order[k] = k;
            }

            var u = users.ToArray();
            var i = items.ToArray();
            Array.Sort(order, (a, b) =>
            {
                var c = u[a].CompareTo(u[b]);
                if (c != 0)
                {
                    return c;
                }

                c = i[a].CompareTo(i[b]);
                return c != 0 ? c : a.CompareTo(b);
            });

            var pairStart = new List<int>();
            var lastTime = new List<long>();
            var lastEvent = new List<int>();
            var userStart = new List<int>();
            var userOf = new List<int>();
            for (var k = 0; k < n; k++)
            {
                var e = order[k];
                var newUser = k == 0 || u[e] != u[order[k - 1]];
                if (newUser || i[e] != i[order[k - 1]])
                {
                    if (newUser)
                    {
                        userStart.Add(pairStart.Count);
                        userOf.Add(u[e]);
                    }

                    pairStart.Add(k);
                    lastTime.Add(long.MinValue);
                    lastEvent.Add(-1);
                }

                var p = pairStart.Count - 1;
                var t = timestamps.IsEmpty ? 0 : timestamps[e];
                if (t > lastTime[p] || (t == lastTime[p] && e > lastEvent[p]))
                {
                    lastTime[p] = t;
                    lastEvent[p] = e;
                }
            }

            pairStart.Add(n);
            userStart.Add(pairStart.Count - 1);
            return new Pairs
            {
                _pairStart = [.. pairStart],
                _events = order,
                _userStart = [.. userStart],
                _userOf = [.. userOf],
                LastTime = [.. lastTime],
                LastEvent = [.. lastEvent],
            };
        }

        /// <summary>(user index, first pair, pair count) per user with events.</summary>
        public IEnumerable<(int User, int Start, int Count)> Users()
        {
            for (var k = 0; k < _userOf.Length; k++)
            {
                yield return (_userOf[k], _userStart[k], _userStart[k + 1] - _userStart[k]);
            }
        }

        public void MarkTest(int pair, bool[] isTest)
        {
            for (var k = _pairStart[pair]; k < _pairStart[pair + 1]; k++)
            {
                isTest[_events[k]] = true;
            }
        }
    }
}
