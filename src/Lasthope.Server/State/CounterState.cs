using System.Globalization;
using Lasthope.Core.Storage;
using Lasthope.Counters;
using Lasthope.Server.Configuration;
using Lasthope.Server.Telemetry;
using Microsoft.Extensions.Logging;

namespace Lasthope.Server.State;

/// <summary>
/// The in-memory counters and the last-hope ranker over them, rebuilt from the store's log at start. Replaying the
/// log in append order rebuilds exactly the counters the live appends built, so a restart changes no ranking.
/// </summary>
public sealed partial class CounterState
{
    /// <summary>The store setting that holds the position-bias curve used for debiasing.</summary>
    public const string PositionCurveSetting = "position-curve";

    private readonly CounterOptions _counterOptions;
    private readonly HeuristicOptions _heuristic;
    private readonly TimeProvider _time;

    /// <summary>Empty counters (no position curve yet); <see cref="ReplayAsync"/> rebuilds them from a store.</summary>
    public CounterState(CounterOptions counters, HeuristicOptions heuristic, TimeProvider time)
    {
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

    /// <summary>Log entries replayed at start.</summary>
    public long Replayed { get; private set; }

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

    /// <summary>
    /// Rebuilds the counters from the store, before the server takes requests. With position debiasing on, the curve
    /// is the one persisted in the store, or, on first use, estimated from the whole log and persisted, so that later
    /// restarts use the same curve.
    /// </summary>
    /// <param name="store">The store.</param>
    /// <param name="users">Where users' segments are remembered.</param>
    /// <param name="logger">Logs what was replayed.</param>
    /// <param name="cancellationToken">Cancels the replay.</param>
    /// <param name="clicks">Where users' clicks are remembered for the user-history features (the server's; none for tools).</param>
    public async Task ReplayAsync(IEventStore store, UserSegments users, ILogger logger, CancellationToken cancellationToken, UserHistory? clicks = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(users);
        PositionCurve? curve = null;
        if (_counterOptions.PositionDebiasing)
        {
            curve = await LoadOrEstimateCurveAsync(store, _counterOptions.MaxTrackedPosition, logger, cancellationToken);
        }

        var counters = new CtrCounters(_counterOptions, _time, curve);
        var since = _time.GetUtcNow() - _counterOptions.LongWindow - _counterOptions.BucketSize;
        long replayed = 0;
        await foreach (var entry in store.ReadCountingLogAsync(since, cancellationToken))
        {
            replayed++;
            if (entry.Impressions is { } impressions)
            {
                foreach (var impression in impressions)
                {
                    counters.RecordImpression(impression.ItemId, entry.Segment, entry.Time, impression.Position);
                }

                if (entry.UserId is { } user && entry.Segment != Core.Segments.SegmentScheme.Unknown)
                {
                    users.Remember(user, entry.Segment);
                }
            }
            else if (entry.Event is { } e)
            {
                counters.RecordClick(e.ItemId, e.Segment, e.Time, e.Weight, e.Position);
                if (e is { UserId: { } user, Weight: > 0 })
                {
                    clicks?.Record(user, e.ItemId, e.Time);
                }
            }
        }

        LogReplayed(logger, replayed, counters.ItemCount);
        Counters = counters;
        Ranker = new LastHopeRanker(counters, _heuristic);
        Replayed = replayed;
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

    [LoggerMessage(EventId = LogEvents.NoPositionCurve, Level = LogLevel.Warning, Message = "Position debiasing is on but the log has no clicks at position 1 to estimate a curve from; using a flat curve until one is estimated")]
    private static partial void LogNoCurve(ILogger logger);

    [LoggerMessage(EventId = LogEvents.PositionCurveEstimated, Level = LogLevel.Information, Message = "Position-bias curve estimated from the log and saved: {Curve}")]
    private static partial void LogCurveEstimated(ILogger logger, PositionCurve curve);
}
