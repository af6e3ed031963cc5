namespace Lasthope.Evaluation;

/// <summary>What precision@k divides the hits by.</summary>
public enum PrecisionDenominator
{
    /// <summary>k, the standard definition (Manning, Raghavan and Schütze 2008, ch. 8): a user with fewer than k relevant items cannot reach 1.</summary>
    K,

    /// <summary>min(k, |relevant|), as benfred/implicit's precision_at_k and some other libraries: 1 is reachable for every user.</summary>
    MinKRelevant,
}

/// <summary>
/// Top-k metrics of one ranked list against one user's relevant set, with binary relevance. L is the list (distinct
/// items, best first; it may be shorter than k, and the missing positions count as misses), T the relevant set, and
/// rel(i) = 1 when the item at rank i is in T.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>precision@k = |L[1..k] ∩ T| / k (or / min(k, |T|), see <see cref="PrecisionDenominator"/>)</item>
/// <item>recall@k = |L[1..k] ∩ T| / |T|</item>
/// <item>NDCG@k = DCG@k / IDCG@k with DCG@k = sum_{i &lt;= k} rel(i) / log2(i + 1) and the ideal list putting
/// min(k, |T|) hits first (<see cref="Ndcg.BinaryAtK"/>)</item>
/// <item>AP@k = (1 / min(k, |T|)) sum_{i &lt;= k} precision@i * rel(i), the definition of ml_metrics' apk and of
/// implicit's mean_average_precision_at_k; MAP@k is its mean over users</item>
/// <item>coverage@k (over users, not per user) = |union of the users' L[1..k]| / catalogue size</item>
/// </list>
/// A user with an empty T scores 0 everywhere (evaluation sets leave such users out).
/// </remarks>
public static class TopKMetrics
{
    /// <summary>Items of <paramref name="ranked"/>[..k] that are in <paramref name="relevant"/> (sorted ascending).</summary>
    public static int Hits(ReadOnlySpan<int> ranked, ReadOnlySpan<int> relevant, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var hits = 0;
        var limit = Math.Min(k, ranked.Length);
        for (var i = 0; i < limit; i++)
        {
            if (relevant.BinarySearch(ranked[i]) >= 0)
            {
                hits++;
            }
        }

        return hits;
    }

    /// <summary>precision@k; see the class remarks.</summary>
    public static double Precision(ReadOnlySpan<int> ranked, ReadOnlySpan<int> relevant, int k, PrecisionDenominator denominator = PrecisionDenominator.K)
    {
        if (relevant.IsEmpty)
        {
            return 0;
        }

        var d = denominator == PrecisionDenominator.K ? k : Math.Min(k, relevant.Length);
        return (double)Hits(ranked, relevant, k) / d;
    }

    /// <summary>recall@k; see the class remarks.</summary>
    public static double Recall(ReadOnlySpan<int> ranked, ReadOnlySpan<int> relevant, int k) =>
        relevant.IsEmpty ? 0 : (double)Hits(ranked, relevant, k) / relevant.Length;

    /// <summary>Binary NDCG@k; see the class remarks.</summary>
    public static double Ndcg(ReadOnlySpan<int> ranked, ReadOnlySpan<int> relevant, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var limit = Math.Min(k, ranked.Length);
        Span<bool> hits = limit <= 256 ? stackalloc bool[limit] : new bool[limit];
        for (var i = 0; i < limit; i++)
        {
            hits[i] = relevant.BinarySearch(ranked[i]) >= 0;
        }

        return Evaluation.Ndcg.BinaryAtK(hits, relevant.Length, k);
    }

    /// <summary>AP@k; see the class remarks.</summary>
    public static double AveragePrecision(ReadOnlySpan<int> ranked, ReadOnlySpan<int> relevant, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (relevant.IsEmpty)
        {
            return 0;
        }

        var hits = 0;
        var sum = 0.0;
        var limit = Math.Min(k, ranked.Length);
        for (var i = 0; i < limit; i++)
        {
            if (relevant.BinarySearch(ranked[i]) >= 0)
            {
                hits++;
                sum += (double)hits / (i + 1);
            }
        }

        return sum / Math.Min(k, relevant.Length);
    }

    /// <summary>coverage@k: distinct items in the first k of any list, over the catalogue size.</summary>
    public static double Coverage(IEnumerable<int[]> lists, int k, int catalogueSize)
    {
        ArgumentNullException.ThrowIfNull(lists);
        ArgumentOutOfRangeException.ThrowIfLessThan(catalogueSize, 1);
        var seen = new HashSet<int>();
        foreach (var list in lists)
        {
            foreach (var item in list.AsSpan(0, Math.Min(k, list.Length)))
            {
                seen.Add(item);
            }
        }

        return (double)seen.Count / catalogueSize;
    }
}
