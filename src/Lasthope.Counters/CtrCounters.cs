using System.Collections.Concurrent;

namespace Lasthope.Counters;

/// <summary>
/// Event-time windowed counters of impressions and weighted clicks, per (item, segment), per item overall, per
/// segment overall and globally, with empirical-Bayes smoothed CTR estimates. Thread-safe: writers and readers may
/// run concurrently (each series has its own lock, held for a few hundred nanoseconds).
/// </summary>
/// <remarks>
/// <para>Time: buckets are taken from event time, never from the arrival time. "Now", which anchors the windows, comes
/// from the injected <see cref="TimeProvider"/>. A late or out-of-order event lands in its own bucket; one older than
/// the long window is dropped and counted in <see cref="DroppedTooOld"/>.</para>
/// <para>Smoothing (for each window w, with prior strength m in pseudo-impressions and D the denominator: impressions,
/// or expected clicks under position debiasing):</para>
/// <code>
///   g   = (C_global + m·BaseCtr) / (D_global + m)          global rate
///   s   = (C_seg    + m·g)       / (D_seg    + m)          the segment's overall rate
///   q   = (C_item   + m·g)       / (D_item   + m)          the item overall
///   p   = (C_item,seg + m·q·s/g) / (D_item,seg + m)        the item in the segment
/// </code>
/// <para>So the prior of an item in a segment is the segment's overall CTR, scaled by how the item does overall; it backs
/// off from segment to item overall to global as data thins out (Gelman et al., Bayesian Data Analysis, 3rd ed.,
/// §5.3, beta-binomial shrinkage with a fixed prior strength). For the "unknown" segment p = q.</para>
/// <para>Trend: the short window is split in halves by age (the last 3.5 days against the previous 3.5 by default; an
/// odd middle bucket counts half to each). Each half is smoothed towards p of the short window, and the trend is their
/// difference, so it is 0 with no data and grows only as evidence of change accumulates.</para>
/// </remarks>
public sealed partial class CtrCounters
{
    private readonly CounterOptions _options;
    private readonly TimeProvider _time;
    private readonly int _shortBuckets;
    private readonly int _longBuckets;
    private readonly int _ringCapacity;
    private readonly long _bucketTicks;
    private readonly ConcurrentDictionary<string, ItemSeries> _items = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _segmentIndex = new(StringComparer.Ordinal);
    private readonly Lock _segmentGate = new();
    private readonly LockedRing _global;
    private readonly LockedRing[] _positions;
    private LockedRing[] _segmentTotals = [];
    private long _droppedTooOld;

    public CtrCounters(CounterOptions options, TimeProvider timeProvider, PositionCurve? positionCurve = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        CounterOptionsValidator.ThrowIfInvalid(options);
        _options = options;
        _time = timeProvider;
        _shortBuckets = options.ShortBuckets;
        _longBuckets = options.LongBuckets;
        _ringCapacity = _longBuckets + 2; // the long window plus room for a bucket of clock skew
        _bucketTicks = options.BucketSize.Ticks;
        Curve = positionCurve ?? PositionCurve.Flat;
        _global = new LockedRing(_ringCapacity);
        _positions = new LockedRing[options.MaxTrackedPosition];
        for (var i = 0; i < _positions.Length; i++)
        {
            _positions[i] = new LockedRing(_ringCapacity);
        }
    }

    public CounterOptions Options => _options;

    /// <summary>The position-bias curve used for expected clicks (flat unless debiasing was configured).</summary>
    public PositionCurve Curve { get; }

    /// <summary>Items with at least one live bucket.</summary>
    public int ItemCount => _items.Count;

    /// <summary>Events dropped because their bucket was older than the long window.</summary>
    public long DroppedTooOld => Interlocked.Read(ref _droppedTooOld);

    /// <summary>The absolute bucket number of <paramref name="time"/> (buckets count from the Unix epoch).</summary>
    public long BucketOf(DateTimeOffset time) => (long)Math.Floor((double)(time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / _bucketTicks);

    /// <summary>The bucket that "now" falls in.</summary>
    public long CurrentBucket => BucketOf(_time.GetUtcNow());

    /// <summary>Counts one impression of <paramref name="itemId"/> at 1-based <paramref name="position"/>.</summary>
    public void RecordImpression(string itemId, string segment, DateTimeOffset time, int position)
    {
        var bucket = BucketOf(time);
        var oldest = CurrentBucket - _longBuckets + 1;
        var examination = Curve[position];
        var series = Series(itemId);
        if (!series.Add(SegmentIndexOf(segment), bucket, oldest, 1, 0, examination))
        {
            Interlocked.Increment(ref _droppedTooOld);
            return;
        }

        series.SawImpression(time.UtcTicks);

        SegmentTotal(SegmentIndexOf(segment)).Add(bucket, oldest, 1, 0, examination);
        _global.Add(bucket, oldest, 1, 0, examination);
        if (position >= 1)
        {
            _positions[Math.Min(position, _positions.Length) - 1].Add(bucket, oldest, 1, 0, 0);
        }
    }

    /// <summary>Counts a click (or another interaction) with its weight; <paramref name="position"/> when attributed.</summary>
    public void RecordClick(string itemId, string segment, DateTimeOffset time, double weight, int? position)
    {
        var bucket = BucketOf(time);
        var oldest = CurrentBucket - _longBuckets + 1;
        if (!Series(itemId).Add(SegmentIndexOf(segment), bucket, oldest, 0, weight, 0))
        {
            Interlocked.Increment(ref _droppedTooOld);
            return;
        }

        SegmentTotal(SegmentIndexOf(segment)).Add(bucket, oldest, 0, weight, 0);
        _global.Add(bucket, oldest, 0, weight, 0);
        if (position is >= 1 and var p)
        {
            _positions[Math.Min(p, _positions.Length) - 1].Add(bucket, oldest, 0, weight, 0);
        }
    }

    /// <summary>
    /// Reads the global and segment totals once, for estimating many items of one request against the same "now".
    /// </summary>
    public EstimationContext BeginEstimation(string segment)
    {
        var current = CurrentBucket;
        var global = new WindowTallies();
        _global.Read(current, _shortBuckets, _longBuckets, out global);
        var index = IsUnknownSegment(segment) ? -1 : FindSegmentIndex(segment);
        var segmentSums = new WindowTallies();
        if (index >= 0 && index < Volatile.Read(ref _segmentTotals).Length)
        {
            _segmentTotals[index].Read(current, _shortBuckets, _longBuckets, out segmentSums);
        }

        var debiased = _options.PositionDebiasing;
        var m = _options.PriorStrength;
        var g7 = Smooth(global.ShortWindow, debiased, m, _options.BaseCtr);
        var g30 = Smooth(global.LongWindow, debiased, m, _options.BaseCtr);
        return new EstimationContext(
            current,
            index,
            IsUnknownSegment(segment),
            g7,
            g30,
            Smooth(segmentSums.ShortWindow, debiased, m, g7),
            Smooth(segmentSums.LongWindow, debiased, m, g30),
            global.LongWindow.Impressions <= 0);
    }

    /// <summary>The smoothed estimates of one item in the context's segment.</summary>
    public CtrEstimate Estimate(in EstimationContext context, string itemId)
    {
        var itemSums = new WindowTallies();
        var segmentSums = new WindowTallies();
        if (_items.TryGetValue(itemId, out var series))
        {
            series.Read(context.Current, context.SegmentIndex, _shortBuckets, _longBuckets, out itemSums, out segmentSums);
        }

        var debiased = _options.PositionDebiasing;
        var m = _options.PriorStrength;
        var q7 = Smooth(itemSums.ShortWindow, debiased, m, context.Global7d);
        var q30 = Smooth(itemSums.LongWindow, debiased, m, context.Global30d);
        var level = itemSums.LongWindow.Impressions > 0 || itemSums.LongWindow.Clicks > 0 ? EstimateLevel.Item : EstimateLevel.Prior;
        if (context.IsUnknownSegment)
        {
            return new CtrEstimate(q7, q30, Trend(itemSums, q7, debiased, m), level);
        }

        var p7 = Smooth(segmentSums.ShortWindow, debiased, m, Lift(q7, context.Segment7d, context.Global7d));
        var p30 = Smooth(segmentSums.LongWindow, debiased, m, Lift(q30, context.Segment30d, context.Global30d));
        if (segmentSums.LongWindow.Impressions > 0 || segmentSums.LongWindow.Clicks > 0)
        {
            level = EstimateLevel.Segment;
        }

        return new CtrEstimate(p7, p30, Trend(segmentSums, p7, debiased, m), level);
    }

    /// <summary>
    /// What the counters know of one item for a model's features: its estimates in the context's segment and overall
    /// (as for the unknown segment), its impressions over the windows, and when it was first seen.
    /// </summary>
    public ItemCounterFeatures Describe(in EstimationContext segmentContext, in EstimationContext overallContext, string itemId)
        => Describe(Estimate(segmentContext, itemId), overallContext, itemId);

    /// <summary>
    /// Like <see cref="Describe(in EstimationContext, in EstimationContext, string)"/> for an item whose estimate in its
    /// segment is known already (the heuristic computed it): only the overall estimate and the tallies are read.
    /// </summary>
    public ItemCounterFeatures Describe(in CtrEstimate inSegment, in EstimationContext overallContext, string itemId)
    {
        var overall = Estimate(overallContext, itemId);
        if (!_items.TryGetValue(itemId, out var series))
        {
            return new ItemCounterFeatures(inSegment, overall, 0, 0, null);
        }

        series.Read(overallContext.Current, -1, _shortBuckets, _longBuckets, out var sums, out _);
        var first = series.FirstSeenTicks;
        return new ItemCounterFeatures(
            inSegment,
            overall,
            sums.ShortWindow.Impressions,
            sums.LongWindow.Impressions,
            first == 0 ? null : new DateTimeOffset(first, TimeSpan.Zero));
    }

    /// <summary>Raw window tallies of an item, overall and for one segment (for stats and features).</summary>
    public (WindowTallies Overall, WindowTallies Segment) ReadTallies(string itemId, string segment)
    {
        var overall = new WindowTallies();
        var bySegment = new WindowTallies();
        if (_items.TryGetValue(itemId, out var series))
        {
            var index = FindSegmentIndex(segment);
            series.Read(CurrentBucket, index, _shortBuckets, _longBuckets, out overall, out bySegment);
        }

        return (overall, bySegment);
    }

    /// <summary>
    /// The tracked item's own id string when the item is tracked (else <paramref name="itemId"/> itself), so that
    /// structures holding many ids (the recent rankings) share one string per item instead of one per request.
    /// </summary>
    public string Intern(string itemId) => _items.TryGetValue(itemId, out var series) ? series.Id : itemId;

    /// <summary>The ids of the tracked items, a snapshot (for background work: it copies every key).</summary>
    public string[] ItemIds() => [.. _items.Keys];

    /// <summary>Segments that have data for <paramref name="itemId"/>.</summary>
    public IReadOnlyList<string> SegmentsOf(string itemId)
    {
        if (!_items.TryGetValue(itemId, out var series))
        {
            return [];
        }

        var indices = series.SegmentIndices();
        var names = new List<string>(indices.Count);
        foreach (var (name, index) in _segmentIndex)
        {
            if (indices.Contains(index))
            {
                names.Add(name);
            }
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <summary>Global tallies per position (index 0 = position 1) over the long window.</summary>
    public Tally[] PositionTallies()
    {
        var current = CurrentBucket;
        var result = new Tally[_positions.Length];
        for (var i = 0; i < result.Length; i++)
        {
            var sums = new WindowTallies();
            _positions[i].Read(current, _shortBuckets, _longBuckets, out sums);
            result[i] = sums.LongWindow;
        }

        return result;
    }

    /// <summary>Global tallies over the windows.</summary>
    public WindowTallies GlobalTallies()
    {
        var sums = new WindowTallies();
        _global.Read(CurrentBucket, _shortBuckets, _longBuckets, out sums);
        return sums;
    }

    /// <summary>Removes items whose every bucket has left the long window. Returns how many were removed.</summary>
    public int Sweep()
    {
        var current = CurrentBucket;
        var removed = 0;
        foreach (var (id, series) in _items)
        {
            if (series.IsStale(current, _longBuckets) && _items.TryRemove(new KeyValuePair<string, ItemSeries>(id, series)))
            {
                removed++;
            }
        }

        return removed;
    }

    private static double Smooth(in Tally tally, bool debiased, double strength, double prior)
        => (tally.Clicks + (strength * prior)) / (tally.Denominator(debiased) + strength);

    private static double Lift(double item, double segment, double global) => global > 0 ? item * segment / global : item;

    private static double Trend(in WindowTallies sums, double shortRate, bool debiased, double strength)
        => Smooth(sums.RecentHalf, debiased, strength, shortRate) - Smooth(sums.OlderHalf, debiased, strength, shortRate);

    private static bool IsUnknownSegment(string segment) => segment == Core.Segments.SegmentScheme.Unknown;

    private ItemSeries Series(string itemId) => _items.GetOrAdd(itemId, static (id, capacity) => new ItemSeries(id, capacity), _ringCapacity);

    private int FindSegmentIndex(string segment) => _segmentIndex.TryGetValue(segment, out var index) ? index : -1;

    private int SegmentIndexOf(string segment)
    {
        if (_segmentIndex.TryGetValue(segment, out var index))
        {
            return index;
        }

        lock (_segmentGate)
        {
            if (_segmentIndex.TryGetValue(segment, out index))
            {
                return index;
            }

            index = _segmentIndex.Count;
            var grown = new LockedRing[index + 1];
            Array.Copy(_segmentTotals, grown, _segmentTotals.Length);
            grown[index] = new LockedRing(_ringCapacity);
            Volatile.Write(ref _segmentTotals, grown);
            _segmentIndex[segment] = index;
            return index;
        }
    }

    private LockedRing SegmentTotal(int index) => Volatile.Read(ref _segmentTotals)[index];

    /// <summary>A ring with its own lock.</summary>
    private sealed class LockedRing(int capacity)
    {
        private readonly BucketRing _ring = new(capacity);
        private readonly Lock _gate = new();

        public bool Add(long bucket, long oldest, double impressions, double clicks, double examinations)
        {
            lock (_gate)
            {
                return _ring.Add(bucket, oldest, impressions, clicks, examinations);
            }
        }

        public void Read(long current, int shortBuckets, int longBuckets, out WindowTallies sums)
        {
            lock (_gate)
            {
                _ring.Read(current, shortBuckets, longBuckets, out sums);
            }
        }

        public void WriteTo(BinaryWriter writer)
        {
            lock (_gate)
            {
                _ring.WriteTo(writer);
            }
        }

        public void ReadFrom(BinaryReader reader)
        {
            lock (_gate)
            {
                _ring.ReadFrom(reader);
            }
        }
    }

    /// <summary>An item's overall ring and its per-segment rings, under one lock.</summary>
    private sealed class ItemSeries(string id, int capacity)
    {
        /// <summary>The item id as first stored: one string per item, however many requests name it.</summary>
        public string Id { get; } = id;

        private readonly BucketRing _overall = new(capacity);
        private readonly Lock _gate = new();
        private BucketRing?[] _bySegment = [];

        /// <summary>Event time of the earliest impression seen while the item has been tracked (UTC ticks; 0 = none).</summary>
        public long FirstSeenTicks { get; private set; }

        public void SawImpression(long utcTicks)
        {
            lock (_gate)
            {
                if (FirstSeenTicks == 0 || utcTicks < FirstSeenTicks)
                {
                    FirstSeenTicks = utcTicks;
                }
            }
        }

        public bool Add(int segment, long bucket, long oldest, double impressions, double clicks, double examinations)
        {
            lock (_gate)
            {
                if (!_overall.Add(bucket, oldest, impressions, clicks, examinations))
                {
                    return false;
                }

                if (segment >= _bySegment.Length)
                {
                    Array.Resize(ref _bySegment, segment + 1);
                }

                (_bySegment[segment] ??= new BucketRing(capacity)).Add(bucket, oldest, impressions, clicks, examinations);
                return true;
            }
        }

        public void Read(long current, int segment, int shortBuckets, int longBuckets, out WindowTallies overall, out WindowTallies bySegment)
        {
            lock (_gate)
            {
                _overall.Read(current, shortBuckets, longBuckets, out overall);
                if ((uint)segment < (uint)_bySegment.Length && _bySegment[segment] is { } ring)
                {
                    ring.Read(current, shortBuckets, longBuckets, out bySegment);
                }
                else
                {
                    bySegment = default;
                }
            }
        }

        public HashSet<int> SegmentIndices()
        {
            lock (_gate)
            {
                var set = new HashSet<int>();
                for (var i = 0; i < _bySegment.Length; i++)
                {
                    if (_bySegment[i] is not null)
                    {
                        set.Add(i);
                    }
                }

                return set;
            }
        }

        public void WriteTo(BinaryWriter writer)
        {
            lock (_gate)
            {
                writer.Write(Id);
                writer.Write(FirstSeenTicks);
                _overall.WriteTo(writer);
                writer.Write(_bySegment.Count(ring => ring is not null));
                for (var i = 0; i < _bySegment.Length; i++)
                {
                    if (_bySegment[i] is { } ring)
                    {
                        writer.Write(i);
                        ring.WriteTo(writer);
                    }
                }
            }
        }

        /// <summary>Reads what <see cref="WriteTo"/> wrote after the id, mapping each written segment index through <paramref name="segments"/>.</summary>
        public void ReadFrom(BinaryReader reader, int[] segments)
        {
            lock (_gate)
            {
                FirstSeenTicks = reader.ReadInt64();
                _overall.ReadFrom(reader);
                for (var n = reader.ReadInt32(); n > 0; n--)
                {
                    var segment = segments[reader.ReadInt32()];
                    if (segment >= _bySegment.Length)
                    {
                        Array.Resize(ref _bySegment, segment + 1);
                    }

                    (_bySegment[segment] = new BucketRing(capacity)).ReadFrom(reader);
                }
            }
        }

        public bool IsStale(long current, int longBuckets)
        {
            lock (_gate)
            {
                return _overall.IsStale(current, longBuckets);
            }
        }
    }
}

/// <summary>An item's counter-derived features (see <see cref="CtrCounters.Describe"/>).</summary>
public readonly record struct ItemCounterFeatures(CtrEstimate InSegment, CtrEstimate Overall, double Impressions7d, double Impressions30d, DateTimeOffset? FirstSeen);

/// <summary>Per-request state of <see cref="CtrCounters.Estimate"/>: "now", the segment and the smoothed priors.</summary>
public readonly record struct EstimationContext(
    long Current,
    int SegmentIndex,
    bool IsUnknownSegment,
    double Global7d,
    double Global30d,
    double Segment7d,
    double Segment30d,
    bool CountersEmpty);
