using Lasthope.Core.Serving;

namespace Lasthope.Core.Events;

/// <summary>
/// One item of a served list, as logged: its 1-based position, its score, which path placed it, and its propensity:
/// the probability that the policy which served the request puts this item at this position (1 without exploration;
/// see the server's exploration policy), which off-policy estimates and unbiased training divide by.
/// </summary>
public sealed record ServedItem(string ItemId, int Position, double Score, ItemSource Source, double Propensity = 1);

/// <summary>The experiment arm a request was assigned to.</summary>
public sealed record ExperimentArm(string ExperimentId, string Arm);

/// <summary>
/// The feature vectors a model scored for a request, exactly as scored, so that training uses what serving saw.
/// <see cref="Values"/> is row-major: one row of <see cref="Names"/>.Count values per entry of <see cref="ItemIds"/>.
/// In JSON the values are the base64 of their IEEE 754 binary64 bytes (little-endian): exact, NaN included, and a
/// third of the size of decimal text.
/// </summary>
public sealed record FeatureLog(
    IReadOnlyList<string> Names,
    IReadOnlyList<string> ItemIds,
    [property: System.Text.Json.Serialization.JsonConverter(typeof(Serialization.ExactDoublesConverter))] double[] Values)
{
    /// <summary>Where each of <paramref name="names"/> is in this log's columns (-1 where it was not logged).</summary>
    public int[] ColumnsOf(IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var columns = new int[names.Count];
        for (var c = 0; c < columns.Length; c++)
        {
            columns[c] = -1;
            for (var i = 0; i < Names.Count; i++)
            {
                if (Names[i] == names[c])
                {
                    columns[c] = i;
                    break;
                }
            }
        }

        return columns;
    }

    /// <summary>Row <paramref name="row"/>'s values at <paramref name="columns"/> (from <see cref="ColumnsOf"/>; NaN where -1), into <paramref name="destination"/>.</summary>
    public void CopyRow(int row, ReadOnlySpan<int> columns, Span<double> destination)
    {
        var start = row * Names.Count;
        for (var c = 0; c < columns.Length; c++)
        {
            destination[c] = columns[c] >= 0 ? Values[start + columns[c]] : double.NaN;
        }
    }
}

/// <summary>
/// A ranking the server served, logged by the server itself (clients never re-post impressions). Each served item is
/// one impression at its position. The fields after <see cref="Items"/> are the served-path contract.
/// </summary>
public sealed record RankingLog
{
    public required string RequestId { get; init; }

    /// <summary>Event time of the impression (the server's clock when it served, or the logged time on import).</summary>
    public required DateTimeOffset Time { get; init; }

    public string? UserId { get; init; }

    public required string Segment { get; init; }

    public required string Surface { get; init; }

    /// <summary>The served list in order; positions start at 1.</summary>
    public required IReadOnlyList<ServedItem> Items { get; init; }

    public ServedBy ServedBy { get; init; } = ServedBy.Heuristic;

    public FallbackReason? FallbackReason { get; init; }

    public string? ModelVersion { get; init; }

    public string HeuristicVersion { get; init; } = "";

    /// <summary>How many of the top-K candidates the model actually scored (0 when it did not serve).</summary>
    public int RerankDepth { get; init; }

    public double BudgetMs { get; init; }

    public ExperimentArm? Experiment { get; init; }

    /// <summary>Milliseconds per pipeline stage.</summary>
    public IReadOnlyDictionary<string, double>? TimingsMs { get; init; }

    /// <summary>Conditions the heuristic met (unknown_user, empty_counters, store_unavailable, ...).</summary>
    public IReadOnlyList<string>? Notes { get; init; }

    /// <summary>The scored feature vectors, when a model scored.</summary>
    public FeatureLog? Features { get; init; }

    /// <summary>Whether the exploration policy randomised this list (its items' propensities say how).</summary>
    public bool Explored { get; init; }

    /// <summary>The exploration policy that applied to this request, explored or not; null when none did.</summary>
    public ExplorationLog? Exploration { get; init; }
}

/// <summary>
/// An exploration policy as it applied to one request: on a share <paramref name="Fraction"/> of requests the shown
/// positions are a uniform draw from the top <paramref name="Pool"/> (n' = min(n, candidates)) of the list. With these
/// two figures any policy's probability of each logged (item, position) can be recomputed offline.
/// <para>
/// On an explored request, the first <paramref name="Ranked"/> rows of <see cref="RankingLog.Features"/> are the top
/// of the list the request would have shown unexplored, in its order (L = min(LogTop, n')); the shown items drawn
/// from deeper follow. A candidate that re-ranks that top can be evaluated from them. 0 on unexplored requests, and
/// when the rows are not logged.
/// </para>
/// </summary>
public sealed record ExplorationLog(double Fraction, int Pool, int Ranked = 0);
