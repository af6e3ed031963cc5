using Lasthope.Core.Events;
using Lasthope.Core.Storage;

namespace Lasthope.Training;

/// <summary>One served ranking turned into a learning-to-rank query: the logged feature rows of its shown items.</summary>
/// <param name="RequestId">The ranking's request id.</param>
/// <param name="Time">When it was served.</param>
/// <param name="Rows">Row-major features, one row per item, in the training set's column order (NaN where not logged).</param>
/// <param name="Labels">Graded relevance: 0 no interaction, 1 a click, 2 a conversion (an event of weight at least 3).</param>
/// <param name="Positions">The 1-based position each item was shown at.</param>
/// <param name="Propensities">The probability, under the policy that served it, of each item being shown where it was.</param>
/// <param name="Explored">The exploration policy drew this list (its items and their order are random).</param>
public sealed record LoggedQuery(string RequestId, DateTimeOffset Time, double[] Rows, float[] Labels, int[] Positions, double[] Propensities, bool Explored)
{
    public int Count => Labels.Length;
}

/// <summary>
/// Learning-to-rank data from Lasthope's own log: every served ranking of a surface that carries feature vectors
/// (the rows the model scored, or the built-in features logged for heuristic traffic), labelled by the interactions
/// attributed to it. Training on what serving logged keeps training and serving on the same features.
/// </summary>
public sealed class LoggedTrainingData
{
    private LoggedTrainingData(IReadOnlyList<string> featureNames, List<LoggedQuery> queries, int rankingsSeen, int withoutFeatures)
    {
        FeatureNames = featureNames;
        Queries = queries;
        RankingsSeen = rankingsSeen;
        RankingsWithoutFeatures = withoutFeatures;
    }

    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>Queries in serving order.</summary>
    public IReadOnlyList<LoggedQuery> Queries { get; }

    public int RankingsSeen { get; }

    public int RankingsWithoutFeatures { get; }

    /// <summary>Reads the log of <paramref name="surface"/> since <paramref name="since"/>.</summary>
    /// <param name="store">The event store.</param>
    /// <param name="surface">The surface whose rankings are used.</param>
    /// <param name="featureNames">The columns to train on; a ranking that did not log one gets NaN (missing) there.</param>
    /// <param name="since">Event time from which rankings and events are read.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    public static async Task<LoggedTrainingData> ReadAsync(IEventStore store, string surface, IReadOnlyList<string> featureNames, DateTimeOffset since, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(featureNames);
        var columns = featureNames.Count;
        var queries = new List<LoggedQuery>();
        var byRequest = new Dictionary<string, (LoggedQuery Query, string[] Items)>(StringComparer.Ordinal);
        int seen = 0, withoutFeatures = 0;
        await foreach (var entry in store.ReadLogAsync(since, cancellationToken))
        {
            if (entry.Ranking is { } ranking && ranking.Surface == surface)
            {
                seen++;
                if (ranking.Features is not { ItemIds.Count: > 0 } log)
                {
                    withoutFeatures++;
                    continue;
                }

                // An explored ranking also logs unshown items (the top of its unexplored list, for off-policy
                // estimates); only the shown ones have labels.
                var map = log.ColumnsOf(featureNames);
                var shownRows = new List<(int Row, ServedItem? Item)>(log.ItemIds.Count);
                for (var r = 0; r < log.ItemIds.Count; r++)
                {
                    var shown = ranking.Items.FirstOrDefault(i => i.ItemId == log.ItemIds[r]);
                    if (shown is not null || !ranking.Explored)
                    {
                        shownRows.Add((r, shown));
                    }
                }

                var rows = new double[shownRows.Count * columns];
                var positions = new int[shownRows.Count];
                var propensities = new double[shownRows.Count];
                var itemIds = new string[shownRows.Count];
                for (var k = 0; k < shownRows.Count; k++)
                {
                    var (r, shown) = shownRows[k];
                    log.CopyRow(r, map, rows.AsSpan(k * columns, columns));

                    positions[k] = shown?.Position ?? (r + 1);
                    propensities[k] = shown?.Propensity ?? 1;
                    itemIds[k] = log.ItemIds[r];
                }

                var query = new LoggedQuery(ranking.RequestId, ranking.Time, rows, new float[itemIds.Length], positions, propensities, ranking.Explored);
                queries.Add(query);
                byRequest[ranking.RequestId] = (query, itemIds);
            }
        }

        // The labels in a second pass: the server logs a ranking after serving it, so its click may be stored first.
        await foreach (var e in store.ReadEventsAsync(since, cancellationToken))
        {
            if (e.RequestId is { } requestId && byRequest.TryGetValue(requestId, out var target))
            {
                var row = Array.IndexOf(target.Items, e.ItemId);
                if (row >= 0)
                {
                    target.Query.Labels[row] = Math.Max(target.Query.Labels[row], e.Weight >= 3 ? 2 : e.Weight > 0 ? 1 : 0);
                }
            }
        }

        return new LoggedTrainingData(featureNames, queries, seen, withoutFeatures);
    }

}
