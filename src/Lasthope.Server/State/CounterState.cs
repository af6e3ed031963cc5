using System.Globalization;
using System.IO.Compression;
using Lasthope.Core.Events;
using Lasthope.Core.Storage;
using Lasthope.Counters;
using Lasthope.Server.Configuration;
using Lasthope.Server.Telemetry;
using Microsoft.Extensions.Logging;

namespace Lasthope.Server.State;

/// <summary>
/// The in-memory counters and the last-hope ranker over them, and which entries of the store's log they hold. Every
/// entry counts exactly once, whichever way it arrives: a ranking this server served is counted when served (and
/// skipped when the log brings it back), an event it appended is counted after the commit under its sequence number,
/// and everything else (what other servers appended) is counted as <see cref="LogFollower"/> reads it from the log,
/// in sequence order. Start-up loads the newest snapshot (<see cref="SaveSnapshotAsync"/>) and follows the log after
/// it, or replays the log's last 30 days when there is none; either rebuilds the counters the live appends built.
/// </summary>
/// <remarks>
/// The bookkeeping: every entry at or below <see cref="AppliedThrough"/> is counted (the follower moves it: the store
/// shows the log as a prefix, so what it has not returned below that number does not exist; so does this server's own
/// event when its sequence number is the next one); above it, the sequence
/// numbers of this server's own events counted ahead of the follower, and the request ids of its rankings counted at
/// serve time that the log has not brought back yet. While a snapshot is written, writes to the counters wait in a
/// list (nothing on the request path waits), so that the snapshot is one cut of the log with its bookkeeping.
/// </remarks>
public sealed partial class CounterState
{
    /// <summary>The store setting that holds the position-bias curve used for debiasing.</summary>
    public const string PositionCurveSetting = "position-curve";

    /// <summary>The snapshot's name in the store.</summary>
    public const string SnapshotName = "counters";

    /// <summary>Served rankings the log has not brought back after this long are forgotten (dropped from a full queue, or lost in a crash).</summary>
    private static readonly TimeSpan UnfollowedTimeout = TimeSpan.FromMinutes(10);

    private static readonly byte[] SnapshotMagic = "LHCS"u8.ToArray();

    /// <summary>The snapshot's user-history section: none (a tool's counters), or every user's events with weights.</summary>
    private const byte HistoryNone = 0;

    private const byte HistoryWithWeights = 2;

    private readonly CounterOptions _counterOptions;
    private readonly HeuristicOptions _heuristic;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly HashSet<long> _appliedAbove = [];
    private readonly Dictionary<string, long> _servedUnfollowed = new(StringComparer.Ordinal);
    private List<Action>? _deferred;
    private long _appliedThrough;
    private long _followed;
    private readonly UserHistory? _clicks;

    /// <summary>Empty counters (no position curve yet); <see cref="ReplayAsync"/> rebuilds them from a store.</summary>
    /// <param name="counters">The counters' settings.</param>
    /// <param name="heuristic">The last-hope ranker's settings.</param>
    /// <param name="time">The clock.</param>
    /// <param name="clicks">Where users' events are remembered for the user-history features and fold-in (the server's; none for tools).</param>
    public CounterState(CounterOptions counters, HeuristicOptions heuristic, TimeProvider time, UserHistory? clicks = null)
    {
        _clicks = clicks;
        ArgumentNullException.ThrowIfNull(counters);
        ArgumentNullException.ThrowIfNull(heuristic);
        _counterOptions = counters;
        _heuristic = heuristic;
        _time = time;
        Counters = new CtrCounters(counters, time);
        Ranker = new LastHopeRanker(Counters, heuristic);
    }

    public CtrCounters Counters { get; private set; }

    public LastHopeRanker Ranker { get; private set; }

    /// <summary>Log entries replayed at start (after the snapshot, when one was loaded).</summary>
    public long Replayed { get; private set; }

    /// <summary>The sequence number of the snapshot start-up loaded, or null when it replayed the log.</summary>
    public long? SnapshotSequence { get; private set; }

    /// <summary>Every log entry at or below this sequence number is counted.</summary>
    public long AppliedThrough
    {
        get
        {
            lock (_gate)
            {
                return _appliedThrough;
            }
        }
    }

    /// <summary>Entries counted from the log since start that this server did not count itself (other servers').</summary>
    public long Followed => Interlocked.Read(ref _followed);

    /// <summary>Empty counters, for offline work (import) that only needs the ingestion path.</summary>
    public static CounterState CreateEmpty(LasthopeOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new CounterState(options.Counters, options.Heuristic, time);
    }

    /// <summary>Counters rebuilt from <paramref name="store"/>, for tools that read a data directory.</summary>
    public static async Task<CounterState> LoadAsync(
        IEventStore store, LasthopeOptions options, TimeProvider time, UserSegments users, ILogger logger, CancellationToken cancellationToken)
    {
        var state = CreateEmpty(options, time);
        await state.ReplayAsync(store, users, logger, cancellationToken);
        return state;
    }

    /// <summary>Counts a ranking this server just served (before the log has it).</summary>
    public void ApplyServed(RankingLog ranking)
    {
        ArgumentNullException.ThrowIfNull(ranking);
        lock (_gate)
        {
            _servedUnfollowed[ranking.RequestId] = Environment.TickCount64;
            Write(() =>
            {
                var counters = Counters;
                foreach (var item in ranking.Items)
                {
                    counters.RecordImpression(item.ItemId, ranking.Segment, ranking.Time, item.Position);
                }
            });
        }
    }

    /// <summary>
    /// Counts events this server appended, by the sequence numbers the store gave them (0: a duplicate, not counted).
    /// Returns how many were new.
    /// </summary>
    public int ApplyAppended(IReadOnlyList<InteractionEvent> events, IReadOnlyList<long> sequences)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(sequences);
        var accepted = 0;
        lock (_gate)
        {
            for (var i = 0; i < events.Count; i++)
            {
                var sequence = sequences[i];
                if (sequence <= 0)
                {
                    continue;
                }

                accepted++;
                if (sequence == _appliedThrough + 1)
                {
                    // Next in the log: everything up to it is counted, so the mark moves and nothing is kept for the
                    // follower to clear (a set of every appended sequence cost about a sixth of ingestion's time, in
                    // a profile).
                    _appliedThrough = sequence;
                    while (_appliedAbove.Remove(_appliedThrough + 1))
                    {
                        _appliedThrough++;
                    }
                }
                else if (sequence <= _appliedThrough || !_appliedAbove.Add(sequence))
                {
                    continue;
                }

                var e = events[i];
                if (_deferred is { } waiting)
                {
                    waiting.Add(() => CountEvent(e));
                }
                else
                {
                    CountEvent(e); // no closure per event unless a snapshot is being written
                }
            }
        }

        return accepted;
    }

    /// <summary>
    /// Counts entries read from the log in sequence order (<see cref="IEventStore.ReadCountingLogAfterAsync"/> after
    /// <see cref="AppliedThrough"/>), skipping those this server counted itself. Returns how many it counted.
    /// </summary>
    public int ApplyFollowed(IReadOnlyList<CountingEntry> entries, UserSegments users, RecentRankings? recent)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(users);
        var counted = 0;
        lock (_gate)
        {
            foreach (var entry in entries)
            {
                if (entry.Sequence <= _appliedThrough)
                {
                    continue;
                }

                _appliedThrough = entry.Sequence;
                if (entry.Event is { } e)
                {
                    if (!_appliedAbove.Remove(entry.Sequence))
                    {
                        Write(() => CountEvent(e));
                        counted++;
                    }
                }
                else if (entry.Impressions is { } impressions && !(entry.RequestId is { } id && _servedUnfollowed.Remove(id)))
                {
                    Write(() => CountImpressions(entry.Segment, entry.Time, impressions));
                    if (entry.UserId is { } user && entry.Segment != Core.Segments.SegmentScheme.Unknown)
                    {
                        users.Remember(user, entry.Segment);
                    }

                    if (recent is not null && entry.RequestId is { } requestId)
                    {
                        recent.Add(requestId, new ServedList(entry.Segment, entry.Surface ?? "", [.. impressions.Select(i => i.ItemId)], [.. impressions.Select(i => i.Position)]));
                    }

                    counted++;
                }
            }

            if (_appliedAbove.Count > 0)
            {
                _appliedAbove.RemoveWhere(sequence => sequence <= _appliedThrough);
            }

            ForgetUnfollowed();
        }

        Interlocked.Add(ref _followed, counted);
        return counted;
    }

    /// <summary>
    /// Rebuilds the counters from the store, before the server takes requests: the newest usable snapshot and the log
    /// after it, else the log of the last 30 days plus a bucket. With position debiasing on, the curve is the one
    /// persisted in the store, or, on first use, estimated from the whole log and persisted, so that later restarts use
    /// the same curve.
    /// </summary>
    /// <param name="store">The store.</param>
    /// <param name="users">Where users' segments are remembered.</param>
    /// <param name="logger">Logs what was replayed.</param>
    /// <param name="cancellationToken">Cancels the replay.</param>
    /// <param name="recent">Where followed rankings are remembered for click attribution (the server's; none for tools).</param>
    public async Task ReplayAsync(IEventStore store, UserSegments users, ILogger logger, CancellationToken cancellationToken, RecentRankings? recent = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(users);
        PositionCurve? curve = null;
        if (_counterOptions.PositionDebiasing)
        {
            curve = await LoadOrEstimateCurveAsync(store, _counterOptions.MaxTrackedPosition, logger, cancellationToken);
        }

        var counters = await LoadSnapshotAsync(store, curve, logger, cancellationToken);
        long replayed = 0;
        if (counters is null)
        {
            lock (_gate)
            {
                _appliedThrough = 0;
                _appliedAbove.Clear();
                _servedUnfollowed.Clear();
            }

            counters = new CtrCounters(_counterOptions, _time, curve);
            Install(counters);
            var since = _time.GetUtcNow() - _counterOptions.LongWindow - _counterOptions.BucketSize;
            var batch = new List<CountingEntry>(1024);
            await foreach (var entry in store.ReadCountingLogAsync(since, cancellationToken))
            {
                batch.Add(entry);
                if (batch.Count == batch.Capacity)
                {
                    replayed += Follow(batch, users, recent);
                }
            }

            replayed += Follow(batch, users, recent);
        }

        // The log after the snapshot (or appended while the replay read): what the follower would read next.
        replayed += await FollowAsync(store, users, recent, cancellationToken);
        LogReplayed(logger, replayed, Counters.ItemCount);
        Replayed = replayed;
    }

    /// <summary>
    /// Reads and counts what the log holds beyond <see cref="AppliedThrough"/>, page after page, until it has caught
    /// up. Returns how many entries it read.
    /// </summary>
    public async Task<long> FollowAsync(IEventStore store, UserSegments users, RecentRankings? recent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        const int PageSize = 2_000;
        long read = 0;
        var page = new List<CountingEntry>(PageSize);
        while (true)
        {
            await foreach (var entry in store.ReadCountingLogAfterAsync(AppliedThrough, PageSize, cancellationToken))
            {
                page.Add(entry);
            }

            var count = page.Count;
            read += Follow(page, users, recent);
            if (count < PageSize)
            {
                return read;
            }
        }
    }

    /// <summary>
    /// Writes a snapshot of the counters (and the users' clicks) with what of the log they hold. Writes to the counters
    /// meanwhile are deferred, not refused. Returns the snapshot's size in bytes, or 0 when the store keeps none.
    /// </summary>
    public async Task<long> SaveSnapshotAsync(IEventStore store, CancellationToken cancellationToken)
    {
        if (store is not ISnapshotStore snapshots)
        {
            return 0;
        }

        long appliedThrough;
        long[] appliedAbove;
        string[] unfollowed;
        lock (_gate)
        {
            if (_deferred is not null)
            {
                return 0; // another snapshot is being written
            }

            _deferred = [];
            appliedThrough = _appliedThrough;
            appliedAbove = [.. _appliedAbove];
            unfollowed = [.. _servedUnfollowed.Keys];
        }

        byte[] content;
        try
        {
            content = await Task.Run(
                () =>
                {
                    using var buffer = new MemoryStream();
                    buffer.Write(SnapshotMagic);
                    // Buffered: a BinaryWriter's 8-byte writes straight into the deflater cost more than the compression.
                    using (var zip = new BufferedStream(new ZLibStream(buffer, CompressionLevel.Fastest, leaveOpen: true), 1 << 16))
                    using (var writer = new BinaryWriter(zip, System.Text.Encoding.UTF8))
                    {
                        writer.Write(appliedThrough);
                        writer.Write(appliedAbove.Length);
                        foreach (var sequence in appliedAbove)
                        {
                            writer.Write(sequence);
                        }

                        writer.Write(unfollowed.Length);
                        foreach (var id in unfollowed)
                        {
                            writer.Write(id);
                        }

                        Counters.WriteTo(writer);
                        writer.Write(_clicks is null ? HistoryNone : HistoryWithWeights);
                        _clicks?.WriteTo(writer);
                    }

                    return buffer.ToArray();
                },
                cancellationToken);
        }
        finally
        {
            lock (_gate)
            {
                foreach (var write in _deferred!)
                {
                    write();
                }

                _deferred = null;
            }
        }

        await snapshots.SaveSnapshotAsync(SnapshotName, content, cancellationToken);
        return content.Length;
    }

    /// <summary>The counters of the stored snapshot with its bookkeeping installed, or null (none, other settings, damaged).</summary>
    private async Task<CtrCounters?> LoadSnapshotAsync(IEventStore store, PositionCurve? curve, ILogger logger, CancellationToken cancellationToken)
    {
        if (store is not ISnapshotStore snapshots || await snapshots.LoadSnapshotAsync(SnapshotName, cancellationToken) is not { } content)
        {
            return null;
        }

        try
        {
            if (content.Length < SnapshotMagic.Length || !content.AsSpan(0, SnapshotMagic.Length).SequenceEqual(SnapshotMagic))
            {
                throw new InvalidDataException("it does not start as a counter snapshot");
            }

            using var zip = new BufferedStream(new ZLibStream(new MemoryStream(content, SnapshotMagic.Length, content.Length - SnapshotMagic.Length), CompressionMode.Decompress), 1 << 16);
            using var reader = new BinaryReader(zip, System.Text.Encoding.UTF8);
            var appliedThrough = reader.ReadInt64();
            var appliedAbove = new long[CheckedCount(reader.ReadInt32())];
            for (var i = 0; i < appliedAbove.Length; i++)
            {
                appliedAbove[i] = reader.ReadInt64();
            }

            var unfollowed = new string[CheckedCount(reader.ReadInt32())];
            for (var i = 0; i < unfollowed.Length; i++)
            {
                unfollowed[i] = reader.ReadString();
            }

            if (CtrCounters.ReadFrom(reader, _counterOptions, _time, curve) is not { } counters)
            {
                LogSnapshotUnusable(logger, "it was written under other counter settings or another position curve");
                return null;
            }

            var history = _clicks?.CreateEmpty() ?? new UserHistory();
            switch (reader.ReadByte())
            {
                case HistoryNone:
                    break;
                case HistoryWithWeights:
                    history.ReadFrom(reader);
                    break;
                default:
                    // 1: clicks without their weights, from before fold-in read the history; the log rebuilds it.
                    throw new InvalidDataException("its user history is of an older format");
            }

            _clicks?.ReplaceWith(history);
            lock (_gate)
            {
                _appliedThrough = appliedThrough;
                _appliedAbove.Clear();
                _appliedAbove.UnionWith(appliedAbove);
                _servedUnfollowed.Clear();
                var now = Environment.TickCount64;
                foreach (var id in unfollowed)
                {
                    _servedUnfollowed[id] = now;
                }
            }

            Install(counters);
            SnapshotSequence = appliedThrough;
            LogSnapshotLoaded(logger, appliedThrough, counters.ItemCount, content.Length);
            return counters;
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or IndexOutOfRangeException or ArgumentException or IOException or FormatException)
        {
            LogSnapshotUnusable(logger, e.Message);
            return null;
        }
    }

    private static int CheckedCount(int count) => count is >= 0 and <= 100_000_000 ? count : throw new InvalidDataException($"a count of {count}");

    private void Install(CtrCounters counters)
    {
        Counters = counters;
        Ranker = new LastHopeRanker(counters, _heuristic);
    }

    private int Follow(List<CountingEntry> batch, UserSegments users, RecentRankings? recent)
    {
        var before = batch.Count;
        ApplyFollowed(batch, users, recent);
        batch.Clear();
        return before;
    }

    /// <summary>Runs a write to the counters now, or after the snapshot being written (the caller holds the gate).</summary>
    private void Write(Action write)
    {
        if (_deferred is { } waiting)
        {
            waiting.Add(write);
        }
        else
        {
            write();
        }
    }

    private void CountEvent(InteractionEvent e)
    {
        Counters.RecordClick(e.ItemId, e.Segment, e.Time, e.Weight, e.Position);
        if (e.UserId is { } user)
        {
            _clicks?.Record(user, e.ItemId, e.Weight, e.Time);
        }
    }

    private void CountImpressions(string segment, DateTimeOffset time, IEnumerable<Impression> impressions)
    {
        var counters = Counters;
        foreach (var impression in impressions)
        {
            counters.RecordImpression(impression.ItemId, segment, time, impression.Position);
        }
    }

    /// <summary>Forgets served rankings the log never brought back (dropped from a full queue, or of a crashed server).</summary>
    private void ForgetUnfollowed()
    {
        if (_servedUnfollowed.Count < 1024)
        {
            return;
        }

        var cutoff = Environment.TickCount64 - (long)UnfollowedTimeout.TotalMilliseconds;
        foreach (var (id, counted) in _servedUnfollowed)
        {
            if (counted < cutoff)
            {
                _servedUnfollowed.Remove(id);
            }
        }
    }

    /// <summary>Estimates the position-bias curve from every ranking and attributed event in the store.</summary>
    public static async Task<PositionBiasEstimator> EstimatePositionBiasAsync(IEventStore store, int maxPosition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var estimator = new PositionBiasEstimator(maxPosition);
        await foreach (var entry in store.ReadCountingLogAsync(DateTimeOffset.MinValue, cancellationToken))
        {
            if (entry.Impressions is { } impressions)
            {
                foreach (var impression in impressions)
                {
                    estimator.AddImpression(impression.ItemId, impression.Position);
                }
            }
            else if (entry.Event is { Position: { } position } e)
            {
                estimator.AddClick(e.ItemId, position, e.Weight);
            }
        }

        return estimator;
    }

    private static async Task<PositionCurve> LoadOrEstimateCurveAsync(IEventStore store, int maxPosition, ILogger logger, CancellationToken cancellationToken)
    {
        if (await store.GetSettingAsync(PositionCurveSetting, cancellationToken) is { } saved)
        {
            return PositionCurve.Parse(saved);
        }

        var estimated = (await EstimatePositionBiasAsync(store, maxPosition, cancellationToken)).Estimate();
        if (estimated is null)
        {
            LogNoCurve(logger);
            return PositionCurve.Flat;
        }

        await store.SetSettingAsync(PositionCurveSetting, estimated.Serialize(), cancellationToken);
        LogCurveEstimated(logger, estimated);
        return estimated;
    }

    internal static string Format(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = LogEvents.CountersRebuilt, Level = LogLevel.Information, Message = "Counters rebuilt from {Entries} log entries; {Items} items tracked")]
    private static partial void LogReplayed(ILogger logger, long entries, int items);

    [LoggerMessage(EventId = LogEvents.SnapshotLoaded, Level = LogLevel.Information, Message = "Counters loaded from the snapshot at log sequence {Sequence}: {Items} items, {Bytes} bytes")]
    private static partial void LogSnapshotLoaded(ILogger logger, long sequence, int items, int bytes);

    [LoggerMessage(EventId = LogEvents.SnapshotUnusable, Level = LogLevel.Warning, Message = "The counter snapshot is not used ({Reason}); replaying the log instead")]
    private static partial void LogSnapshotUnusable(ILogger logger, string reason);

    [LoggerMessage(EventId = LogEvents.NoPositionCurve, Level = LogLevel.Warning, Message = "Position debiasing is on but the log has no clicks at position 1 to estimate a curve from; using a flat curve until one is estimated")]
    private static partial void LogNoCurve(ILogger logger);

    [LoggerMessage(EventId = LogEvents.PositionCurveEstimated, Level = LogLevel.Information, Message = "Position-bias curve estimated from the log and saved: {Curve}")]
    private static partial void LogCurveEstimated(ILogger logger, PositionCurve curve);
}
