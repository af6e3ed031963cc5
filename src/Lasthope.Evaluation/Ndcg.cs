namespace Lasthope.Evaluation;

/// <summary>
/// Normalized discounted cumulative gain (Järvelin and Kekäläinen 2002), with the gain and the conventions of
/// LightGBM's <c>ndcg</c> metric (src/metric/dcg_calculator.cpp): gain(l) = 2^l - 1 unless label gains are given,
/// discount 1 / log2(1 + rank), and a query whose labels are all zero scores 1.
/// </summary>
public static class Ndcg
{
    /// <summary>NDCG@k of one query with graded labels, ranked by <paramref name="scores"/> (descending).</summary>
    /// <param name="scores">Model scores, one per document.</param>
    /// <param name="labels">Graded relevance labels (non-negative integers), one per document.</param>
    /// <param name="k">Cut-off; positions past k do not count.</param>
    /// <param name="labelGain">Gain per label; null for 2^l - 1.</param>
    public static double AtK(ReadOnlySpan<double> scores, ReadOnlySpan<int> labels, int k, ReadOnlySpan<double> labelGain = default)
    {
        if (scores.Length != labels.Length)
        {
            throw new ArgumentException($"{scores.Length} scores but {labels.Length} labels.", nameof(labels));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var n = scores.Length;
        var order = new int[n];
        for (var i = 0; i < n; i++)
        {
            order[i] = i;
        }

        // Descending score; equal scores keep input order, as a stable sort does.
        var keys = scores.ToArray();
        Array.Sort(order, (a, b) => keys[b].CompareTo(keys[a]) is var c && c != 0 ? c : a.CompareTo(b));

        var sortedLabels = labels.ToArray();
        Array.Sort(sortedLabels, (a, b) => b.CompareTo(a));
        var ideal = Dcg(sortedLabels, k, labelGain);
        if (ideal <= 0)
        {
            return 1.0;
        }

        var ranked = new int[n];
        for (var i = 0; i < n; i++)
        {
            ranked[i] = labels[order[i]];
        }

        return Dcg(ranked, k, labelGain) / ideal;
    }

    /// <summary>
    /// NDCG@k with binary relevance, for top-k recommendation lists: <paramref name="hits"/>[i] says whether the item at
    /// rank i+1 is relevant; the ideal list puts min(k, <paramref name="relevantCount"/>) hits first.
    /// </summary>
    public static double BinaryAtK(ReadOnlySpan<bool> hits, int relevantCount, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (relevantCount <= 0)
        {
            return 0.0;
        }

        var dcg = 0.0;
        var limit = Math.Min(k, hits.Length);
        for (var i = 0; i < limit; i++)
        {
            if (hits[i])
            {
                dcg += Discount(i);
            }
        }

        var ideal = 0.0;
        var idealHits = Math.Min(k, relevantCount);
        for (var i = 0; i < idealHits; i++)
        {
            ideal += Discount(i);
        }

        return dcg / ideal;
    }

    /// <summary>1 / log2(2 + zero-based rank).</summary>
    public static double Discount(int zeroBasedRank) => 1.0 / Math.Log2(zeroBasedRank + 2.0);

    private static double Dcg(ReadOnlySpan<int> labelsInRankOrder, int k, ReadOnlySpan<double> labelGain)
    {
        var dcg = 0.0;
        var limit = Math.Min(k, labelsInRankOrder.Length);
        for (var i = 0; i < limit; i++)
        {
            var label = labelsInRankOrder[i];
            var gain = labelGain.IsEmpty ? Math.Pow(2, label) - 1 : labelGain[label];
            dcg += gain * Discount(i);
        }

        return dcg;
    }
}
