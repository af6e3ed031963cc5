using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace Lasthope.Counters;

/// <summary>Impressions, weighted clicks and expected clicks (impressions weighted by position bias).</summary>
[StructLayout(LayoutKind.Sequential)]
[SuppressMessage("Design", "CA1051", Justification = "A hot-path accumulator passed by reference.")]
public struct Tally
{
    public double Impressions;
    public double Clicks;
    public double Examinations;

    public readonly double Denominator(bool debiased) => debiased ? Examinations : Impressions;

    internal void Add(in Tally other, double weight)
    {
        Impressions += other.Impressions * weight;
        Clicks += other.Clicks * weight;
        Examinations += other.Examinations * weight;
    }
}

/// <summary>Sums of one series over the windows an estimate needs, read in one pass over the ring.</summary>
[SuppressMessage("Design", "CA1051", Justification = "A hot-path accumulator passed by reference.")]
public struct WindowTallies
{
    /// <summary>The short window (7 days by default).</summary>
    public Tally ShortWindow;

    /// <summary>The long window (30 days by default).</summary>
    public Tally LongWindow;

    /// <summary>The newer half of the short window (the last 3.5 days by default).</summary>
    public Tally RecentHalf;

    /// <summary>The older half of the short window (the 3.5 days before).</summary>
    public Tally OlderHalf;
}

/// <summary>
/// A ring of event-time buckets for one counter series. Slot <c>b mod n</c> holds absolute bucket <c>b</c>; a write
/// to a newer bucket recycles the slot, which is how buckets older than the long window are dropped and memory stays
/// bounded. A late event lands in its own (older) bucket if that bucket is still inside the long window.
/// Not thread-safe: the owner locks.
/// </summary>
internal sealed class BucketRing
{
    private const long Empty = long.MinValue;
    private readonly Slot[] _slots;

    // The last read's sums and the "now" bucket they were read at. Any write invalidates them. Rankings read the same
    // few thousand series over and over between writes, so most reads are a copy instead of a pass over the ring.
    private WindowTallies _cached;
    private long _cachedAt = Empty;

    public BucketRing(int capacity)
    {
        _slots = new Slot[capacity];
        for (var i = 0; i < _slots.Length; i++)
        {
            _slots[i].Bucket = Empty;
        }
    }

    /// <summary>The newest bucket ever written, or <see cref="long.MinValue"/> when none.</summary>
    public long NewestBucket { get; private set; } = Empty;

    /// <summary>Adds to absolute bucket <paramref name="bucket"/>; returns false (and drops) when it is too old.</summary>
    public bool Add(long bucket, long oldestAllowed, double impressions, double clicks, double examinations)
    {
        if (bucket < oldestAllowed)
        {
            return false;
        }

        ref var slot = ref _slots[(int)(((bucket % _slots.Length) + _slots.Length) % _slots.Length)];
        if (slot.Bucket != bucket)
        {
            if (slot.Bucket > bucket)
            {
                return false; // the slot already holds a newer bucket: this one fell out of the ring
            }

            slot = new Slot { Bucket = bucket };
        }

        _cachedAt = Empty;
        slot.Tally.Impressions += impressions;
        slot.Tally.Clicks += clicks;
        slot.Tally.Examinations += examinations;
        if (bucket > NewestBucket)
        {
            NewestBucket = bucket;
        }

        return true;
    }

    /// <summary>
    /// Sets <paramref name="sums"/> to the windows ending at <paramref name="current"/> (inclusive). Buckets slightly in
    /// the future (clock skew) count as current. The short window is split into halves by age; with an odd number of
    /// buckets the middle bucket counts half to each, so 7 daily buckets split at exactly 3.5 days.
    /// </summary>
    public void Read(long current, int shortBuckets, int longBuckets, out WindowTallies sums)
    {
        if (_cachedAt == current)
        {
            sums = _cached;
            return;
        }

        sums = default;
        var half = shortBuckets / 2.0;
        foreach (ref readonly var slot in _slots.AsSpan())
        {
            if (slot.Bucket == Empty)
            {
                continue;
            }

            var age = Math.Max(0, current - slot.Bucket);
            if (age >= longBuckets)
            {
                continue;
            }

            sums.LongWindow.Add(slot.Tally, 1);
            if (age < shortBuckets)
            {
                sums.ShortWindow.Add(slot.Tally, 1);
                var recent = Math.Clamp(half - age, 0, 1);
                if (recent > 0)
                {
                    sums.RecentHalf.Add(slot.Tally, recent);
                }

                if (recent < 1)
                {
                    sums.OlderHalf.Add(slot.Tally, 1 - recent);
                }
            }
        }

        _cached = sums;
        _cachedAt = current;
    }

    /// <summary>True when every bucket is older than the long window ending at <paramref name="current"/>.</summary>
    /// <summary>Writes the live slots: their count, then bucket and tallies of each.</summary>
    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(_slots.Count(slot => slot.Bucket != Empty));
        foreach (ref readonly var slot in _slots.AsSpan())
        {
            if (slot.Bucket != Empty)
            {
                writer.Write(slot.Bucket);
                writer.Write(slot.Tally.Impressions);
                writer.Write(slot.Tally.Clicks);
                writer.Write(slot.Tally.Examinations);
            }
        }
    }

    /// <summary>Adds what <see cref="WriteTo"/> wrote (into an empty ring of the same capacity: the values exactly).</summary>
    public void ReadFrom(BinaryReader reader)
    {
        for (var n = reader.ReadInt32(); n > 0; n--)
        {
            var bucket = reader.ReadInt64();
            Add(bucket, long.MinValue, reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble());
        }
    }

    public bool IsStale(long current, int longBuckets) => NewestBucket == Empty || current - NewestBucket >= longBuckets;

    private struct Slot
    {
        public long Bucket;
        public Tally Tally;
    }
}
