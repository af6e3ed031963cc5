using System.Globalization;

namespace Lasthope.Counters;

/// <summary>The counters as bytes, so that a restart loads them instead of replaying the whole log.</summary>
public sealed partial class CtrCounters
{
    private const int SnapshotFormat = 1;

    /// <summary>
    /// What a snapshot's counters depend on: the bucketing, the windows, the tracked positions and the curve. A snapshot
    /// written under other settings is not loaded (the log is replayed instead).
    /// </summary>
    public string SnapshotFingerprint => string.Join(
        ';',
        SnapshotFormat.ToString(CultureInfo.InvariantCulture),
        _bucketTicks.ToString(CultureInfo.InvariantCulture),
        _shortBuckets.ToString(CultureInfo.InvariantCulture),
        _longBuckets.ToString(CultureInfo.InvariantCulture),
        _positions.Length.ToString(CultureInfo.InvariantCulture),
        Curve.Serialize());

    /// <summary>
    /// Writes every live tally. The caller keeps writers out meanwhile (each series is read under its own lock, but a
    /// snapshot must be one cut of the log: <c>CounterState</c> defers its writes while one is taken).
    /// </summary>
    public void WriteTo(BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(SnapshotFingerprint);
        var segments = _segmentIndex.OrderBy(s => s.Value).Select(s => s.Key).ToArray();
        writer.Write(segments.Length);
        foreach (var segment in segments)
        {
            writer.Write(segment);
        }

        var totals = Volatile.Read(ref _segmentTotals);
        for (var i = 0; i < segments.Length; i++)
        {
            totals[i].WriteTo(writer);
        }

        _global.WriteTo(writer);
        foreach (var position in _positions)
        {
            position.WriteTo(writer);
        }

        var items = _items.Values.ToArray();
        writer.Write(items.Length);
        foreach (var series in items)
        {
            series.WriteTo(writer);
        }
    }

    /// <summary>
    /// Counters read from what <see cref="WriteTo"/> wrote, or null when it was written under other settings (see
    /// <see cref="SnapshotFingerprint"/>). A truncated or damaged snapshot throws <see cref="EndOfStreamException"/>
    /// or <see cref="InvalidDataException"/>.
    /// </summary>
    public static CtrCounters? ReadFrom(BinaryReader reader, CounterOptions options, TimeProvider timeProvider, PositionCurve? positionCurve = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var counters = new CtrCounters(options, timeProvider, positionCurve);
        if (reader.ReadString() != counters.SnapshotFingerprint)
        {
            return null;
        }

        var segmentCount = reader.ReadInt32();
        if (segmentCount < 0 || segmentCount > 1_000_000)
        {
            throw new InvalidDataException($"A counter snapshot claims {segmentCount} segments.");
        }

        var segments = new int[segmentCount];
        for (var i = 0; i < segmentCount; i++)
        {
            segments[i] = counters.SegmentIndexOf(reader.ReadString());
        }

        for (var i = 0; i < segmentCount; i++)
        {
            counters.SegmentTotal(segments[i]).ReadFrom(reader);
        }

        counters._global.ReadFrom(reader);
        foreach (var position in counters._positions)
        {
            position.ReadFrom(reader);
        }

        for (var n = reader.ReadInt32(); n > 0; n--)
        {
            counters.Series(reader.ReadString()).ReadFrom(reader, segments);
        }

        return counters;
    }
}
