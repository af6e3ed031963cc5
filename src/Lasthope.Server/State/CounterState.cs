using System.Globalization;
using Lasthope.Core.Storage;
using Lasthope.Counters;
using Lasthope.Server.Hosting;
using Microsoft.Extensions.Logging;
using Lasthope.Server.Configuration;
using Lasthope.Server.Telemetry;

namespace Lasthope.Server.State;

/// <summary>
/// The in-memory counters and the last-hope ranker over them, rebuilt from the store's log at start. Replaying the
/// log in append order rebuilds exactly the counters the live appends built, so a restart changes no ranking.
/// </summary>
public sealed partial class CounterState
{
    /// <summary>The store setting that holds the position-bias curve used for debiasing.</summary>
    public const string PositionCurveSetting = "position-curve";

    private CounterState(CtrCounters counters, LastHopeRanker ranker, long replayed)
    {
        Counters = counters;
        Ranker = ranker;
        Replayed = replayed;
    }

    public CtrCounters Counters { get; }

    public LastHopeRanker Ranker { get; }

    /// <summary>Log entries replayed at start.</summary>
    public long Replayed { get; }

    /// <summary>Empty counters, for offline work (import) that only needs the ingestion path.</summary>
    public static CounterState CreateEmpty(LasthopeOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        var counters = new CtrCounters(options.Counters, time);
        return new CounterState(counters, new LastHopeRanker(counters, options.Heuristic), 0);
    }

    /// <summary>
    /// Builds the counters from the store. With position debiasing on, the curve is the one persisted in the store,
    /// or, on first use, estimated from the whole log and persisted, so that later restarts use the same curve.
    /// </summary>
    public static async Task<CounterState> LoadAsync(
        IEventStore store, LasthopeOptions options, TimeProvider time, UserSegments users, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        PositionCurve? curve = null;
        if (options.Counters.PositionDebiasing)
        {
            curve = await LoadOrEstimateCurveAsync(store, options.Counters.MaxTrackedPosition, logger, cancellationToken);
        }

        var counters = new CtrCounters(options.Counters, time, curve);
        var ranker = new LastHopeRanker(counters, options.Heuristic);
        var since = time.GetUtcNow() - options.Counters.LongWindow - options.Counters.BucketSize;
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
            }
        }

        LogReplayed(logger, replayed, counters.ItemCount);
        return new CounterState(counters, ranker, replayed);
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
