using System.Buffers;
using System.Globalization;
using Lasthope.Core.Segments;
using Lasthope.Simulation.Internal;

namespace Lasthope.Simulation;

/// <summary>
/// A seeded simulated world (items, users, their tastes) and its rank-request traffic, the ground truth that Lasthope's
/// quality is measured against. It knows nothing of the server or HTTP: it makes plain requests, turns a served order
/// into clicks, and answers what the truth is. Drivers (the demo, the load test) carry the objects over the wire.
/// </summary>
/// <remarks>
/// <para>
/// <b>Truth.</b> Each item has an attractiveness P(click | examined) per segment that changes once per simulated day
/// (day d runs from <see cref="SimulationOptions.StartTime"/> + d days): a logistic model of item quality, the segment's
/// drifting taste for the item's category, price sensitivity, an item x segment affinity, a smooth per-item drift, and
/// a novelty boost that decays as the item ages. Segments are the grid of <see cref="SimulationOptions.Segments"/>; the
/// unknown segment's truth is the traffic-weighted mixture of the segments of the users the server cannot place.
/// </para>
/// <para>
/// <b>Clicks.</b> The position-based model: the item at position p is clicked when the user examines p (probability
/// <see cref="PositionBias.Examination"/>) and is attracted by it (its attractiveness for the user's true segment).
/// </para>
/// <para>
/// <b>Determinism.</b> Every value is a pure function of the seed and what it describes: request n is the same whoever
/// asks for it and in whatever order, and the clicks of a request depend only on its index and the served order. So a
/// run's traffic and clicks do not depend on thread scheduling. All members are thread-safe.
/// </para>
/// </remarks>
public sealed class TrafficGenerator
{
    /// <summary>Number of features per candidate.</summary>
    public const int FeatureCount = 4;

    private const int MaxDay = 36_500;
    private const int DayCacheSize = 32;
    private const double UserActivitySigma = 1.0;

    private readonly SimulationOptions _options;
    private readonly SegmentScheme _scheme;
    private readonly Catalogue _catalogue;
    private readonly World _world;
    private readonly DailyCycle _cycle;
    private readonly SimulatedUser[] _users;
    private readonly double[] _cumulativeActivity;
    private readonly string[] _segments;
    private readonly Dictionary<string, int> _segmentIndex;
    private readonly Dictionary<int, DayTable> _days = [];
    private readonly Lock _daysGate = new();
    private volatile DayTable? _recentDay;

    /// <summary>Builds the world of <paramref name="options"/> (validated first): users and segment tastes; items on demand.</summary>
    public TrafficGenerator(SimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _scheme = new SegmentScheme(options.Segments);
        var grid = _scheme.GridSegments;
        _segments = [.. grid, SegmentScheme.Unknown];
        _segmentIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var s = 0; s < _segments.Length; s++)
        {
            _segmentIndex[_segments[s]] = s;
        }

        _users = CreateUsers(options, _scheme, _segmentIndex);
        _cumulativeActivity = new double[_users.Length];
        var total = 0.0;
        for (var u = 0; u < _users.Length; u++)
        {
            total += _users[u].Activity;
            _cumulativeActivity[u] = total;
        }

        _world = new World(options, options.Segments.AgeBands.Count, options.Segments.Genders.Count, UnknownMixture(_users, grid.Count));
        _catalogue = new Catalogue(options);
        _cycle = new DailyCycle(options.DailyCycleAmplitude, options.PeakHour);
    }

    /// <summary>Names of the candidate features, in the order they are written: category, price, quality_signal, age_days.</summary>
    public static IReadOnlyList<string> FeatureNames { get; } = ["category", "price", "quality_signal", "age_days"];

    /// <summary>
    /// Quantiles of the live catalogue's attractiveness (per segment and day) at which <see cref="TrueRelevance(string, string, DateTimeOffset)"/>
    /// grades 1, 2, 3 and 4 begin: the top 1% of items are grade 4, the next 4% grade 3, the next 15% grade 2, the next
    /// 30% grade 1, and the rest 0.
    /// </summary>
    public static IReadOnlyList<double> RelevanceGradeQuantiles { get; } = DayTable.GradeQuantiles;

    /// <summary>The options, validated.</summary>
    public SimulationOptions Options => _options;

    /// <summary>The segment scheme built from <see cref="SimulationOptions.Segments"/>, which resolves users' segments.</summary>
    public SegmentScheme Scheme => _scheme;

    /// <summary>The segments the truth is defined for: the grid segments in the scheme's order, then <see cref="SegmentScheme.Unknown"/>.</summary>
    public IReadOnlyList<string> Segments => _segments;

    /// <summary>All users, by index.</summary>
    public IReadOnlyList<SimulatedUser> Users => _users;

    /// <summary>The simulated day <paramref name="time"/> falls in (negative before the start).</summary>
    public int DayOf(DateTimeOffset time) =>
        (int)Math.Clamp(Math.Floor((double)(time.UtcTicks - _options.StartTime.UtcTicks) / TimeSpan.TicksPerDay), -MaxDay, MaxDay);

    /// <summary>The start of simulated day <paramref name="day"/>.</summary>
    public DateTimeOffset StartOfDay(int day) => _options.StartTime.AddDays(day);

    /// <summary>
    /// Request <paramref name="index"/> of the stream: ordinal index % <see cref="SimulationOptions.RequestsPerDay"/> of
    /// day index / <see cref="SimulationOptions.RequestsPerDay"/>, so indices run in time order. Random access, so
    /// concurrent drivers can split the stream by index and still send exactly the requests a sequential run would.
    /// </summary>
    public SimulatedRequest Request(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var perDay = _options.RequestsPerDay;
        var day = index / perDay;
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(day, MaxDay, nameof(index));
        return CreateRequest((int)day, (int)(index % perDay));
    }

    /// <summary>
    /// The requests with <paramref name="from"/> &lt;= time &lt; <paramref name="to"/>, in time order (the stream starts at
    /// <see cref="SimulationOptions.StartTime"/>; earlier times have none). Lazy: requests are made as enumerated, so
    /// <c>Requests(start, DateTimeOffset.MaxValue)</c> is an endless stream.
    /// </summary>
    public IEnumerable<SimulatedRequest> Requests(DateTimeOffset from, DateTimeOffset to)
    {
        if (from < _options.StartTime)
        {
            from = _options.StartTime;
        }

        if (to > StartOfDay(MaxDay))
        {
            // An open-ended stream (to = DateTimeOffset.MaxValue) ends where the simulation does, a century on.
            to = StartOfDay(MaxDay);
        }

        return to <= from ? [] : Enumerate(from, to);
    }

    /// <summary>The requests of simulated day <paramref name="day"/> (0-based), in time order.</summary>
    public IEnumerable<SimulatedRequest> RequestsOfDay(int day)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(day);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(day, MaxDay);
        return Requests(StartOfDay(day), StartOfDay(day + 1));
    }

    /// <summary>
    /// Simulates the user of <paramref name="request"/> reading <paramref name="servedOrder"/> (item ids, best first):
    /// position p is examined with the configured probability and an examined item is clicked with its attractiveness
    /// for the user's true segment. Returns the clicks in time order (usually none or one).
    /// </summary>
    /// <remarks>
    /// The outcome depends only on the request and the served order, never on other calls: the same order yields the
    /// same clicks. Any item of this simulation may be served, not only the request's candidates; ids past the
    /// examination depth are not read.
    /// </remarks>
    /// <exception cref="ArgumentException">An id within the examination depth is not an item of this simulation.</exception>
    public IReadOnlyList<SimulatedClick> SimulateClicks(SimulatedRequest request, ReadOnlySpan<string> servedOrder)
    {
        ArgumentNullException.ThrowIfNull(request);
        var bias = _options.PositionBias.Table;
        var depth = Math.Min(servedOrder.Length, bias.Length);
        var indices = depth <= 256 ? stackalloc int[depth] : new int[depth];
        for (var p = 0; p < depth; p++)
        {
            indices[p] = Catalogue.ParseId(servedOrder[p]);
            if (indices[p] < 0)
            {
                throw new ArgumentException($"'{servedOrder[p]}' at position {p + 1} is not an item of this simulation.", nameof(servedOrder));
            }
        }

        var table = Day(request.Day);
        var segment = request.User.TrueSegmentIndex;
        var rng = Keys.Random(_options.Seed, Internal.Stream.Clicks, request.Day, request.Ordinal);
        List<SimulatedClick>? clicks = null;
        for (var p = 0; p < depth; p++)
        {
            // One uniform decides both steps: u < e is examination, and given that, u / e is uniform on [0, 1), so
            // u < e * a is a click with probability a.
            var e = bias[p];
            var u = rng.NextDouble();
            if (u >= e)
            {
                continue;
            }

            var a = Attractiveness(table, indices[p], segment);
            if (u < e * a)
            {
                // Users read top-down: a second to react, 1.5 s per position above, then an exponential dwell.
                var delay = 1.0 + (1.5 * p) + rng.NextExponential(4.0);
                var item = servedOrder[p];
                clicks ??= [];
                clicks.Add(new SimulatedClick(
                    string.Create(CultureInfo.InvariantCulture, $"{request.RequestId}-p{p + 1}"),
                    request.RequestId,
                    request.User.Id,
                    item,
                    p + 1,
                    request.Time + TimeSpan.FromSeconds(delay)));
            }
        }

        if (clicks is null)
        {
            return [];
        }

        clicks.Sort(static (x, y) => x.Time.CompareTo(y.Time) is var c && c != 0 ? c : x.Position.CompareTo(y.Position));
        return clicks;
    }

    /// <summary>
    /// <see cref="SimulateClicks(SimulatedRequest, ReadOnlySpan{string})"/> with the candidates served in the order they
    /// came, which is uniformly random: the clicks a random ranking earns.
    /// </summary>
    public IReadOnlyList<SimulatedClick> SimulateClicks(SimulatedRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var depth = Math.Min(request.CandidateIds.Count, _options.PositionBias.Depth);
        var served = new string[depth];
        for (var i = 0; i < depth; i++)
        {
            served[i] = request.CandidateIds[i];
        }

        return SimulateClicks(request, served);
    }

    /// <summary>Item ids live at <paramref name="time"/>, in index order.</summary>
    public IReadOnlyList<string> LiveItems(DateTimeOffset time)
    {
        var (table, count) = LiveAt(time);
        var live = table.Live[..count].ToArray();
        Array.Sort(live);
        var ids = new string[live.Length];
        for (var k = 0; k < live.Length; k++)
        {
            ids[k] = table.Items.Ids[live[k]];
        }

        return ids;
    }

    /// <summary>Number of items live at <paramref name="time"/>.</summary>
    public int LiveItemCount(DateTimeOffset time) => LiveAt(time).Count;

    /// <summary>The static description of an item, including its hidden quality.</summary>
    /// <exception cref="ArgumentException"><paramref name="itemId"/> is not an item of this simulation.</exception>
    public SimulatedItem Item(string itemId)
    {
        var index = ItemIndex(itemId);
        var item = _catalogue.Ensure(index + 1L).Params[index];
        var published = item.BirthTicks == long.MaxValue ? DateTimeOffset.MaxValue : _options.StartTime.AddTicks(item.BirthTicks);
        DateTimeOffset? retired = item.RetireDay == int.MaxValue ? null : StartOfDay(Math.Min(item.RetireDay, MaxDay));
        return new SimulatedItem(itemId, index, item.Category, item.Price, item.QualitySignal, published, retired, item.Quality);
    }

    /// <summary>
    /// The true P(click | examined) of <paramref name="itemId"/> for <paramref name="segment"/> at <paramref name="time"/>:
    /// constant within a simulated day. Defined for any item of the simulation, live or not (an unpublished item counts as
    /// new). For <see cref="SegmentScheme.Unknown"/>, the mixture over the segments of the users the server cannot place.
    /// </summary>
    /// <exception cref="ArgumentException">The item or the segment is not one of this simulation.</exception>
    public double TrueAttractiveness(string itemId, string segment, DateTimeOffset time) =>
        Attractiveness(Day(DayOf(time)), ItemIndex(itemId), SegmentIndex(segment));

    /// <summary>
    /// The true P(click | examined) of each of <paramref name="itemIds"/> for the user of <paramref name="request"/> (their
    /// true segment, even when the server sees them as unknown), written to <paramref name="destination"/>.
    /// </summary>
    public void TrueAttractiveness(SimulatedRequest request, ReadOnlySpan<string> itemIds, Span<double> destination)
    {
        ArgumentNullException.ThrowIfNull(request);
        CheckLengths(itemIds.Length, destination.Length);
        var table = Day(request.Day);
        for (var i = 0; i < itemIds.Length; i++)
        {
            destination[i] = Attractiveness(table, ItemIndex(itemIds[i]), request.User.TrueSegmentIndex);
        }
    }

    /// <summary>
    /// The <paramref name="k"/> live items with the highest true attractiveness for <paramref name="segment"/> at
    /// <paramref name="time"/>, best first (ties by publication order): the generator's true best, without position
    /// bias. Fewer when fewer are live.
    /// </summary>
    public IReadOnlyList<string> TrueTop(string segment, DateTimeOffset time, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var s = SegmentIndex(segment);
        var (table, count) = LiveAt(time);
        var order = table.Live[..count].ToArray();
        Array.Sort(order, (x, y) =>
            table.Attractiveness(y, s).CompareTo(table.Attractiveness(x, s)) is var c && c != 0 ? c : x.CompareTo(y));
        var n = Math.Min(k, order.Length);
        var top = new string[n];
        for (var i = 0; i < n; i++)
        {
            top[i] = table.Items.Ids[order[i]];
        }

        return top;
    }

    /// <summary>
    /// The graded relevance (0 to 4) of <paramref name="itemId"/> for <paramref name="segment"/> at <paramref name="time"/>,
    /// by where its attractiveness falls among the items live at the start of the day (see
    /// <see cref="RelevanceGradeQuantiles"/>). Suitable as NDCG labels; independent of any candidate list.
    /// </summary>
    public int TrueRelevance(string itemId, string segment, DateTimeOffset time)
    {
        var table = Day(DayOf(time));
        var s = SegmentIndex(segment);
        return table.Grade(Attractiveness(table, ItemIndex(itemId), s), s);
    }

    /// <summary>
    /// Graded relevance labels (0 to 4) of <paramref name="itemIds"/> for the user of <paramref name="request"/> (their
    /// true segment) on the request's day, for NDCG of a ranking the server returned.
    /// </summary>
    public void TrueRelevance(SimulatedRequest request, ReadOnlySpan<string> itemIds, Span<int> labels)
    {
        ArgumentNullException.ThrowIfNull(request);
        CheckLengths(itemIds.Length, labels.Length);
        var table = Day(request.Day);
        var s = request.User.TrueSegmentIndex;
        for (var i = 0; i < itemIds.Length; i++)
        {
            labels[i] = table.Grade(Attractiveness(table, ItemIndex(itemIds[i]), s), s);
        }
    }

    private IEnumerable<SimulatedRequest> Enumerate(DateTimeOffset from, DateTimeOffset to)
    {
        var firstDay = DayOf(from);
        var lastDay = DayOf(to.AddTicks(-1));
        for (var day = firstDay; day <= lastDay; day++)
        {
            var ordinal = day == firstDay ? FirstOrdinalAtOrAfter(day, from) : 0;
            for (; ordinal < _options.RequestsPerDay; ordinal++)
            {
                if (TimeOf(day, ordinal) >= to)
                {
                    yield break;
                }

                yield return CreateRequest(day, ordinal);
            }
        }
    }

    private int FirstOrdinalAtOrAfter(int day, DateTimeOffset time)
    {
        int lo = 0, hi = _options.RequestsPerDay;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (TimeOf(day, mid) < time)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>
    /// The time of request (day, ordinal): stratified over the daily cycle, ordinal j at the quantile (j + u) / n of the
    /// day's traffic, so times increase with the ordinal without sorting and each is a function of its own generator.
    /// </summary>
    private DateTimeOffset TimeOf(int day, int ordinal) =>
        TimeOf(day, ordinal, Keys.Random(_options.Seed, Internal.Stream.Request, day, ordinal).NextDouble());

    private DateTimeOffset TimeOf(int day, int ordinal, double jitter)
    {
        var fraction = _cycle.Inverse((ordinal + jitter) / _options.RequestsPerDay);
        var offset = Math.Min((long)(fraction * TimeSpan.TicksPerDay), TimeSpan.TicksPerDay - 1);
        return new DateTimeOffset(_options.StartTime.UtcTicks + (day * TimeSpan.TicksPerDay) + offset, TimeSpan.Zero);
    }

    private SimulatedRequest CreateRequest(int day, int ordinal)
    {
        // The first draw places the request in time (TimeOf repeats it); the rest pick the user and the candidates.
        var rng = Keys.Random(_options.Seed, Internal.Stream.Request, day, ordinal);
        var time = TimeOf(day, ordinal, rng.NextDouble());
        var dayTime = (double)(time.UtcTicks - _options.StartTime.UtcTicks) / TimeSpan.TicksPerDay;
        var user = _users[PickUser(rng.NextDouble())];
        var table = Day(day);
        var liveCount = table.LiveCount(dayTime);
        var count = Math.Min(_options.CandidatesPerRequest, liveCount);
        var candidates = new int[count];

        // Partial Fisher-Yates over a pooled copy of the live items: a uniform sample without replacement, in random order.
        var scratch = ArrayPool<int>.Shared.Rent(Math.Max(1, liveCount));
        try
        {
            table.Live[..liveCount].CopyTo(scratch);
            for (var k = 0; k < count; k++)
            {
                var j = k + rng.NextInt(liveCount - k);
                (scratch[k], scratch[j]) = (scratch[j], scratch[k]);
                candidates[k] = scratch[k];
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(scratch);
        }

        var id = string.Create(CultureInfo.InvariantCulture, $"s{_options.Seed}-d{day}-{ordinal}");
        var index = ((long)day * _options.RequestsPerDay) + ordinal;
        return new SimulatedRequest(index, day, ordinal, id, time, user, candidates, table.Items, dayTime);
    }

    private int PickUser(double u)
    {
        var target = u * _cumulativeActivity[^1];
        var index = Array.BinarySearch(_cumulativeActivity, target);
        index = index >= 0 ? index + 1 : ~index;
        return Math.Min(index, _users.Length - 1);
    }

    private (DayTable Table, int Count) LiveAt(DateTimeOffset time)
    {
        var table = Day(DayOf(time));
        var dayTime = (double)(time.UtcTicks - _options.StartTime.UtcTicks) / TimeSpan.TicksPerDay;
        return (table, table.LiveCount(dayTime));
    }

    private double Attractiveness(DayTable table, int item, int segment) =>
        item < table.Count
            ? table.Attractiveness(item, segment)
            : _world.Attractiveness(_catalogue.Ensure(item + 1L).Params[item], item, segment, table.Day);

    private DayTable Day(int day)
    {
        var recent = _recentDay;
        if (recent is not null && recent.Day == day)
        {
            return recent;
        }

        lock (_daysGate)
        {
            if (!_days.TryGetValue(day, out var table))
            {
                table = new DayTable(day, _catalogue, _world);
                if (_days.Count >= DayCacheSize)
                {
                    // Traffic moves forward through days: forget the day farthest from this one.
                    var farthest = _days.Keys.MaxBy(d => Math.Abs(d - day));
                    _days.Remove(farthest);
                }

                _days[day] = table;
            }

            _recentDay = table;
            return table;
        }
    }

    private static int ItemIndex(string itemId)
    {
        ArgumentNullException.ThrowIfNull(itemId);
        var index = Catalogue.ParseId(itemId);
        return index >= 0 ? index : throw new ArgumentException($"'{itemId}' is not an item of this simulation.", nameof(itemId));
    }

    private int SegmentIndex(string segment)
    {
        ArgumentNullException.ThrowIfNull(segment);
        return _segmentIndex.TryGetValue(segment, out var s)
            ? s
            : throw new ArgumentException($"'{segment}' is not a segment of this simulation ({string.Join(", ", _segments)}).", nameof(segment));
    }

    private static void CheckLengths(int items, int destination)
    {
        if (destination < items)
        {
            throw new ArgumentException($"The destination holds {destination} values for {items} items.", nameof(destination));
        }
    }

    private static SimulatedUser[] CreateUsers(SimulationOptions options, SegmentScheme scheme, Dictionary<string, int> segmentIndex)
    {
        var bands = options.Segments.AgeBands;
        var genders = options.Segments.Genders;
        var users = new SimulatedUser[options.UserCount];
        for (var u = 0; u < users.Length; u++)
        {
            // Every draw is made whatever the branch, so changing one setting (say the unknown fraction) does not
            // reshuffle everything else about a user.
            var rng = Keys.Random(options.Seed, Internal.Stream.User, u);
            var band = rng.NextInt(bands.Count);
            var lower = bands[band];
            var upper = band + 1 < bands.Count ? bands[band + 1] : Math.Max(80, lower + 10);
            if (lower < 16 && upper > 16)
            {
                lower = 16;
            }

            var age = lower + rng.NextInt(upper - lower);
            var gender = genders[rng.NextInt(genders.Count)].ToLowerInvariant();
            var activity = Math.Exp((UserActivitySigma * rng.NextGaussian()) - (UserActivitySigma * UserActivitySigma / 2));
            var hidden = rng.NextDouble() < options.UnknownUserFraction;
            var what = rng.NextInt(4);

            // Of the users the server cannot place, half send neither age nor gender, a quarter only a gender, a quarter only an age.
            int? sentAge = hidden && what is 0 or 1 or 2 ? null : age;
            var sentGender = hidden && what is 0 or 1 or 3 ? null : gender;
            var trueSegment = scheme.Resolve(age, gender, null);
            if (!segmentIndex.TryGetValue(trueSegment, out var trueIndex) || trueIndex >= scheme.GridSegments.Count)
            {
                // SegmentScheme normalises "female"/"male" to f/m when resolving, so a grid built on those words is unreachable.
                throw new ArgumentException(
                    $"Simulation:Segments: gender '{gender}' with age {age} does not resolve to a grid segment; use short codes such as f and m.",
                    nameof(options));
            }

            users[u] = new SimulatedUser(
                string.Create(CultureInfo.InvariantCulture, $"user-{u}"),
                u,
                sentAge,
                sentGender,
                scheme.Resolve(sentAge, sentGender, null),
                trueSegment,
                activity)
            {
                TrueSegmentIndex = trueIndex,
            };
        }

        return users;
    }

    private static double[] UnknownMixture(SimulatedUser[] users, int gridCount)
    {
        var weights = new double[gridCount];
        var any = users.Any(u => u.Segment == SegmentScheme.Unknown);
        foreach (var user in users)
        {
            if (!any || user.Segment == SegmentScheme.Unknown)
            {
                weights[user.TrueSegmentIndex] += user.Activity;
            }
        }

        var total = weights.Sum();
        for (var s = 0; s < gridCount; s++)
        {
            weights[s] /= total;
        }

        return weights;
    }
}
