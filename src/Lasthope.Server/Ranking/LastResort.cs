using Lasthope.Core.Segments;
using Lasthope.Counters;
using Lasthope.Core.Selection;
using Lasthope.Server.Configuration;
using Lasthope.Server.State;
using Lasthope.Server.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lasthope.Server.Ranking;

/// <summary>
/// The cheapest last hope: for every segment of the age x gender grid and the unknown segment, the heuristic's scores
/// of its best <see cref="ServingOptions.LastResortItems"/> items, computed in the background every
/// <see cref="ServingOptions.LastResortRefreshSeconds"/> (or ten times as long as a build took, whichever is longer). A request that can get no CPU turn within its budget is
/// answered from it without one: a table lookup per candidate and the top of the list ordered, instead of the
/// counters' estimates of every candidate. Its scores are at most one refresh old; a candidate outside the table
/// scores as an item the counters do not know (the segment's prior). Other segments (explicit ones) read the unknown
/// segment's table. Readers see one immutable set of tables or the next.
/// </summary>
public sealed partial class LastResort(CounterState state, SegmentScheme segments, ServingOptions serving, ILogger<LastResort> logger) : BackgroundService
{
    private static readonly Table Empty = new(new Dictionary<string, double>(StringComparer.Ordinal), 0, true);
    private Dictionary<string, Table> _tables = new(StringComparer.Ordinal);

    /// <summary>Rebuilds every segment's table from the counters as they are now.</summary>
    public void Refresh()
    {
        var counters = state.Counters;
        var ranker = state.Ranker;
        var items = counters.ItemIds();
        var scores = new double[items.Length];
        var order = new int[items.Length];
        var tables = new Dictionary<string, Table>(StringComparer.Ordinal);
        foreach (var segment in segments.GridSegments.Append(SegmentScheme.Unknown))
        {
            var context = counters.BeginEstimation(segment);
            for (var i = 0; i < items.Length; i++)
            {
                scores[i] = ranker.Score(counters.Estimate(context, items[i]));
                order[i] = i;
            }

            var kept = Math.Min(items.Length, serving.LastResortItems);
            TopK.Partial(order.AsSpan(), kept, new LastHopeRanker.ScoreOrder(items, scores));
            var table = new Dictionary<string, double>(kept, StringComparer.Ordinal);
            for (var r = 0; r < kept; r++)
            {
                table[items[order[r]]] = scores[order[r]];
            }

            // The prior: what the heuristic gives an item the counters do not know, in this segment.
            var prior = ranker.Score(counters.Estimate(context, "\0lasthope:unknown-item"));
            tables[segment] = new Table(table, prior, context.CountersEmpty);
        }

        Volatile.Write(ref _tables, tables);
    }

    /// <summary>
    /// Orders the request's candidates by the table of its segment: fills <see cref="RankWork.Scores"/>, the first
    /// max(count, needed) positions of <see cref="RankWork.Order"/>, and the estimates of the items it shows (their
    /// features are logged), and returns what the heuristic would say it met.
    /// </summary>
    internal HeuristicSummary Answer(RankWork work, int needed)
    {
        var tables = Volatile.Read(ref _tables);
        var table = tables.GetValueOrDefault(work.Segment) ?? tables.GetValueOrDefault(SegmentScheme.Unknown) ?? Empty;
        var ids = work.Command.CandidateIds;
        var n = ids.Length;
        var unknown = 0;
        for (var i = 0; i < n; i++)
        {
            if (!table.Scores.TryGetValue(ids[i], out work.Scores[i]))
            {
                work.Scores[i] = table.Prior;
                unknown++;
            }
        }

        var shown = Math.Min(n, Math.Max(needed, work.Command.Count));
        LastHopeRanker.Order(ids, work.Scores, work.Order.AsSpan(0, n), shown);
        var counters = state.Counters;
        var context = counters.BeginEstimation(work.Segment);
        for (var r = 0; r < Math.Min(n, work.Command.Count); r++)
        {
            var index = work.Order[r];
            work.Estimates[index] = counters.Estimate(context, ids[index]);
        }

        return new HeuristicSummary(unknown, table.CountersEmpty);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield(); // the first build runs beside the host's start, not inside it
        var interval = TimeSpan.FromSeconds(serving.LastResortRefreshSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                Refresh();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogRefreshFailed(logger, e); // the previous tables keep serving
            }

            // A build takes items x segments estimates: with a large catalogue the tables are rebuilt less often, so
            // that they never take more than a tenth of one core.
            var took = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            await Task.Delay(took * 10 > interval ? took * 10 : interval, stoppingToken);
        }
    }

    private sealed record Table(Dictionary<string, double> Scores, double Prior, bool CountersEmpty);

    [LoggerMessage(EventId = LogEvents.LastResortRefreshFailed, Level = LogLevel.Warning, Message = "The last resort's tables could not be rebuilt; the previous ones keep serving")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
