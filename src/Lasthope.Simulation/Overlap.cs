namespace Lasthope.Simulation;

/// <summary>Overlap@k, the measure the demo reports: how many of the true best items a ranking has found.</summary>
public static class Overlap
{
    /// <summary>
    /// |first k of <paramref name="ranked"/> ∩ first k of <paramref name="truth"/>| / min(k, |first k of truth|): the share
    /// of the k true best that appear among the first k ranked, in [0, 1]. Duplicates in <paramref name="ranked"/> count
    /// once. 1 when <paramref name="truth"/> is empty (there was nothing to find).
    /// </summary>
    public static double AtK(IEnumerable<string> ranked, IEnumerable<string> truth, int k)
    {
        ArgumentNullException.ThrowIfNull(ranked);
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var best = new HashSet<string>(truth.Take(k), StringComparer.Ordinal);
        if (best.Count == 0)
        {
            return 1.0;
        }

        var found = 0;
        foreach (var id in ranked.Take(k).Distinct(StringComparer.Ordinal))
        {
            if (best.Contains(id))
            {
                found++;
            }
        }

        return (double)found / best.Count;
    }

    /// <summary>The expected overlap@k of a uniformly random ranking of <paramref name="liveItems"/> items: k / n (1 when k &gt;= n).</summary>
    public static double ChanceAtK(int k, int liveItems)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(liveItems, 1);
        return Math.Min(1.0, (double)k / liveItems);
    }
}
