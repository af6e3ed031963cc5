using System.Buffers;
using System.Diagnostics;
using Lasthope.Core.Events;
using Lasthope.Core.Segments;
using Lasthope.Core.Serving;
using Lasthope.Core.Storage;
using Lasthope.Counters;
using Lasthope.Server.Api;
using Lasthope.Server.Ingestion;
using Lasthope.Server.Telemetry;

namespace Lasthope.Server.Ranking;

/// <summary>
/// Serves POST /v1/rank. Stage 1, always: the last-hope heuristic scores every candidate; its order is both the first
/// phase and the answer of last resort. The served list is logged (impressions counted in memory at once, written to
/// the store in the background) with the path that served it.
/// </summary>
public sealed class RankingService
{
    private readonly CounterState _state;
    private readonly SegmentScheme _segments;
    private readonly UserSegments _users;
    private readonly IEventStore _store;
    private readonly ImpressionLog _log;
    private readonly RecentRankings _recent;
    private readonly TimeProvider _time;
    private readonly LasthopeMetrics _metrics;

    public RankingService(CounterState state, SegmentScheme segments, UserSegments users, IEventStore store, ImpressionLog log, RecentRankings recent, TimeProvider time, LasthopeMetrics metrics)
    {
        _state = state;
        _segments = segments;
        _users = users;
        _store = store;
        _log = log;
        _recent = recent;
        _time = time;
        _metrics = metrics;
    }

    public async ValueTask<RankResponse> RankAsync(RankCommand command, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        var started = Stopwatch.GetTimestamp();
        var notes = new List<string>(4);
        var timings = new Dictionary<string, double>(4, StringComparer.Ordinal);

        var segment = await ResolveSegmentAsync(command, notes, cancellationToken);
        var afterSegment = Stopwatch.GetTimestamp();
        timings["segment"] = Stopwatch.GetElapsedTime(started, afterSegment).TotalMilliseconds;

        var n = command.CandidateIds.Length;
        var scores = ArrayPool<double>.Shared.Rent(n);
        var order = ArrayPool<int>.Shared.Rent(n);
        try
        {
            var ranker = _state.Ranker;
            var summary = ranker.Score(segment, command.CandidateIds, scores);
            LastHopeRanker.Order(command.CandidateIds, scores, order.AsSpan(0, n));
            var afterHeuristic = Stopwatch.GetTimestamp();
            timings["heuristic"] = Stopwatch.GetElapsedTime(afterSegment, afterHeuristic).TotalMilliseconds;
            _metrics.Stage("heuristic", ServedBy.Heuristic, Stopwatch.GetElapsedTime(afterSegment, afterHeuristic).TotalSeconds);

            if (summary.CountersEmpty)
            {
                notes.Add("empty_counters");
            }

            if (summary.UnknownItems > 0)
            {
                notes.Add("unknown_items");
            }

            if (_log.StoreError is not null && !notes.Contains("store_unavailable"))
            {
                notes.Add("store_unavailable");
            }

            var count = Math.Min(command.Count, n);
            var items = new RankedItemDto[count];
            var served = new ServedItem[count];
            for (var i = 0; i < count; i++)
            {
                var index = order[i];
                items[i] = new RankedItemDto(command.CandidateIds[index], i + 1, scores[index], ItemSource.Heuristic);
                served[i] = new ServedItem(command.CandidateIds[index], i + 1, scores[index], ItemSource.Heuristic);
            }

            var now = _time.GetUtcNow();
            var total = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            timings["total"] = total;
            var ranking = new RankingLog
            {
                RequestId = command.RequestId,
                Time = now,
                UserId = command.UserId,
                Segment = segment,
                Surface = command.Surface,
                Items = served,
                ServedBy = ServedBy.Heuristic,
                HeuristicVersion = ranker.Version,
                TimingsMs = timings,
                Notes = notes,
            };
            Record(ranking);
            _metrics.RankServed(command.Surface, null, ServedBy.Heuristic, null, total / 1000, count);
            return new RankResponse
            {
                RequestId = command.RequestId,
                ServedBy = ServedBy.Heuristic,
                HeuristicVersion = ranker.Version,
                Segment = segment,
                Items = items,
                Timings = timings,
                Notes = notes,
                UnknownItems = summary.UnknownItems,
            };
        }
        finally
        {
            ArrayPool<double>.Shared.Return(scores);
            ArrayPool<int>.Shared.Return(order);
        }
    }

    /// <summary>Counts the impressions, remembers the ranking for attribution, and queues it for the store.</summary>
    private void Record(RankingLog ranking)
    {
        var counters = _state.Counters;
        foreach (var item in ranking.Items)
        {
            counters.RecordImpression(item.ItemId, ranking.Segment, ranking.Time, item.Position);
        }

        _recent.Add(ranking);
        if (ranking.UserId is { } user && ranking.Segment != SegmentScheme.Unknown)
        {
            _users.Remember(user, ranking.Segment);
        }

        _log.Enqueue(ranking);
    }

    /// <summary>Explicit segment, else age and gender, else the segment the user was last served in, else unknown.</summary>
    private async ValueTask<string> ResolveSegmentAsync(RankCommand command, List<string> notes, CancellationToken cancellationToken)
    {
        var segment = _segments.Resolve(command.Age, command.Gender, command.ExplicitSegment);
        if (segment == SegmentScheme.Unknown && command.UserId is { } userId)
        {
            var remembered = _users.Find(userId);
            if (remembered is null)
            {
                try
                {
                    remembered = await _store.FindUserSegmentAsync(userId, cancellationToken);
                }
                catch (StoreUnavailableException)
                {
                    notes.Add("store_unavailable");
                }
            }

            segment = remembered ?? SegmentScheme.Unknown;
        }

        if (segment == SegmentScheme.Unknown)
        {
            notes.Add("unknown_user");
        }

        return segment;
    }
}
