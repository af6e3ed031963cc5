namespace Lasthope.Simulation.Players;

/// <summary>
/// The simulated players of <see cref="PlayerSimulator.Simulate"/> with their days, features and truth. Immutable and
/// thread-safe. Players are addressed by index (install order); every day is counted from the player's install, day 0
/// being the install day.
/// </summary>
public sealed class PlayerPopulation
{
    private readonly SimulatedPlayer[] _players;
    private readonly byte[] _sessions;
    private readonly int[] _purchaseStart;
    private readonly PurchaseDay[] _purchases;
    private readonly double[] _revenue;
    private readonly double[] _expected;
    private readonly bool[] _whale;
    private readonly int[] _installs;
    private readonly int[] _spikeDays;

    internal PlayerPopulation(
        PlayerSimulationOptions options,
        int[] spikeDays,
        int[] installs,
        SimulatedPlayer[] players,
        byte[] sessions,
        int[] purchaseStart,
        PurchaseDay[] purchases,
        double[] revenue,
        double[] expected)
    {
        Options = options;
        _spikeDays = spikeDays;
        _installs = installs;
        _players = players;
        _sessions = sessions;
        _purchaseStart = purchaseStart;
        _purchases = purchases;
        _revenue = revenue;
        _expected = expected;
        (_whale, PayerCount, WhaleCount, WhaleThreshold) = MarkWhales(revenue, options.WhaleFraction);
    }

    /// <summary>The options simulated.</summary>
    public PlayerSimulationOptions Options { get; }

    /// <summary>H, the days simulated from each install.</summary>
    public int HorizonDays => Options.HorizonDays;

    /// <summary>Number of players.</summary>
    public int Count => _players.Length;

    /// <summary>The players, in install order.</summary>
    public IReadOnlyList<SimulatedPlayer> Players => _players;

    /// <summary>Installs per calendar day, 0 to <see cref="PlayerSimulationOptions.InstallDays"/> - 1.</summary>
    public IReadOnlyList<int> InstallsByDay => _installs;

    /// <summary>The calendar days of the marketing spikes, ascending.</summary>
    public IReadOnlyList<int> SpikeDays => _spikeDays;

    /// <summary>Players with positive revenue over the horizon.</summary>
    public int PayerCount { get; }

    /// <summary>
    /// Players flagged <see cref="PlayerTruth.IsWhale"/>: the payers are ordered by horizon revenue, highest first (ties by
    /// lower index first), and the first ceil(<see cref="PlayerSimulationOptions.WhaleFraction"/> x
    /// <see cref="PayerCount"/>) are whales. Over the whole population, every cohort together: each player's horizon is
    /// the same length from their own install, so cohorts compare fairly. Zero when nobody pays.
    /// </summary>
    public int WhaleCount { get; }

    /// <summary>The horizon revenue of the last (smallest) whale; positive infinity when there is none.</summary>
    public double WhaleThreshold { get; }

    /// <summary>The daily sessions of <paramref name="player"/>, one per day of the horizon (0 on a day not played).</summary>
    public ReadOnlySpan<byte> Sessions(int player)
    {
        CheckPlayer(player);
        return _sessions.AsSpan(player * HorizonDays, HorizonDays);
    }

    /// <summary>Day <paramref name="day"/> (since install) of <paramref name="player"/>.</summary>
    public PlayerDay Day(int player, int day)
    {
        CheckPlayer(player);
        ArgumentOutOfRangeException.ThrowIfNegative(day);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(day, HorizonDays);
        var sessions = _sessions[(player * HorizonDays) + day];
        var state = sessions > 0 ? PlayerDayState.Active : _players[player].ChurnDay <= day ? PlayerDayState.Churned : PlayerDayState.Idle;
        foreach (var p in PurchasesOf(player))
        {
            if (p.Day == day)
            {
                return new PlayerDay(day, sessions, p.Count, p.Revenue, state);
            }
        }

        return new PlayerDay(day, sessions, 0, 0, state);
    }

    /// <summary>Every day of the horizon of <paramref name="player"/> (allocates the array; use <see cref="Sessions"/> on hot paths).</summary>
    public PlayerDay[] Activity(int player)
    {
        var days = new PlayerDay[HorizonDays];
        for (var d = 0; d < days.Length; d++)
        {
            days[d] = Day(player, d);
        }

        return days;
    }

    /// <summary>Revenue of <paramref name="player"/> over days 0 to <paramref name="days"/> - 1 since install, to the cent.</summary>
    public double Revenue(int player, int days)
    {
        CheckPlayer(player);
        CheckDays(days);
        var sum = 0.0;
        foreach (var p in PurchasesOf(player))
        {
            if (p.Day < days)
            {
                sum += p.Revenue;
            }
        }

        return Math.Round(sum, 2);
    }

    /// <summary>
    /// Bounded retention on day <paramref name="day"/>: the share of all players who played on that day after their
    /// install (day 0 is 1 by construction).
    /// </summary>
    public double Retention(int day)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(day);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(day, HorizonDays);
        var active = 0;
        for (var i = day; i < _sessions.Length; i += HorizonDays)
        {
            if (_sessions[i] > 0)
            {
                active++;
            }
        }

        return Count == 0 ? 0 : (double)active / Count;
    }

    /// <summary>The features of the first <see cref="PlayerSimulationOptions.FeatureDays"/> days of <paramref name="player"/>.</summary>
    public PlayerFeatures Features(int player) => Features(player, Options.FeatureDays);

    /// <summary>
    /// The features of the first <paramref name="days"/> days (0 to <paramref name="days"/> - 1 since install) of
    /// <paramref name="player"/>: O(days + the player's purchase days), no allocation.
    /// </summary>
    public PlayerFeatures Features(int player, int days)
    {
        CheckPlayer(player);
        CheckDays(days);
        var sessions = _sessions.AsSpan(player * HorizonDays, days);
        var total = 0;
        var active = 0;
        foreach (var s in sessions)
        {
            total += s;
            active += s > 0 ? 1 : 0;
        }

        var purchases = 0;
        var revenue = 0.0;
        var max = 0.0;
        var first = double.NaN;
        foreach (var p in PurchasesOf(player))
        {
            if (p.Day >= days)
            {
                break; // entries are in day order
            }

            purchases += p.Count;
            revenue += p.Revenue;
            max = Math.Max(max, p.MaxPurchase);
            if (double.IsNaN(first))
            {
                first = p.Day;
            }
        }

        var who = _players[player];
        return new PlayerFeatures(
            days, who.InstallDay, who.Platform, who.Channel, who.CountryTier, total, active, sessions[^1], purchases, Math.Round(revenue, 2), max, first);
    }

    /// <summary>The truth of <paramref name="player"/> over the horizon.</summary>
    public PlayerTruth Truth(int player)
    {
        CheckPlayer(player);
        return new PlayerTruth(HorizonDays, _revenue[player], _expected[player], _whale[player]);
    }

    /// <summary>The feature and truth row of <paramref name="player"/>, features over the first <paramref name="days"/> days.</summary>
    public PlayerRow Row(int player, int days) => new(player, Features(player, days), Truth(player));

    /// <summary>Every player's row, with features over <see cref="PlayerSimulationOptions.FeatureDays"/>.</summary>
    public PlayerRow[] Rows() => Rows(Options.FeatureDays);

    /// <summary>Every player's row, with features over the first <paramref name="days"/> days.</summary>
    public PlayerRow[] Rows(int days)
    {
        CheckDays(days);
        var rows = new PlayerRow[Count];
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = Row(i, days);
        }

        return rows;
    }

    private ReadOnlySpan<PurchaseDay> PurchasesOf(int player) =>
        _purchases.AsSpan(_purchaseStart[player], _purchaseStart[player + 1] - _purchaseStart[player]);

    private void CheckPlayer(int player)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(player);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(player, Count);
    }

    private void CheckDays(int days)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(days, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(days, HorizonDays);
    }

    private static (bool[] Whale, int Payers, int Whales, double Threshold) MarkWhales(double[] revenue, double fraction)
    {
        var payers = new List<int>();
        for (var i = 0; i < revenue.Length; i++)
        {
            if (revenue[i] > 0)
            {
                payers.Add(i);
            }
        }

        payers.Sort((a, b) => revenue[b].CompareTo(revenue[a]) is var c && c != 0 ? c : a.CompareTo(b));

        // Rounded before the ceiling so that 0.01 x 1,900 (19.000000000000004 in doubles) makes 19 whales, not 20.
        var whales = payers.Count == 0 ? 0 : (int)Math.Ceiling(Math.Round(fraction * payers.Count, 9));
        var flags = new bool[revenue.Length];
        for (var k = 0; k < whales; k++)
        {
            flags[payers[k]] = true;
        }

        return (flags, payers.Count, whales, whales == 0 ? double.PositiveInfinity : revenue[payers[whales - 1]]);
    }
}
