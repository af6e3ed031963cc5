using System.Buffers;
using System.Numerics.Tensors;
using Lasthope.Core.Selection;

namespace Lasthope.Factors;

/// <summary>
/// Brute-force top-k: scores every item in blocks, skips an ascending list of excluded indices as it goes, and keeps
/// the k best in the shared bounded heap (<see cref="TopK{T, TOrder}"/>) held in the caller's destination span. No allocation beyond a pooled copy of the
/// exclusions. Ties go to the lower item index (items are scanned in ascending order and only a strictly greater
/// score displaces the heap's minimum).
/// </summary>
internal static class TopKScan
{
    private const int Block = 256;

    /// <summary>How a block of item scores is computed.</summary>
    internal interface IScorer
    {
        /// <summary>Writes the scores of items [start, start + scores.Length).</summary>
        void Score(int start, Span<float> scores);
    }

    /// <summary>Dot products of item rows with a query vector, optionally scaled per item (cosine).</summary>
    internal readonly struct DotScorer(FactorMatrix items, float[] query, float[]? itemScale, float queryScale) : IScorer
    {
        public void Score(int start, Span<float> scores)
        {
            var stride = items.Stride;
            ref var q = ref query[0];
            for (var j = 0; j < scores.Length; j++)
            {
                scores[j] = VectorMath.Dot(ref items.RowRef(start + j), ref q, stride);
            }

            if (itemScale is not null)
            {
                TensorPrimitives.Multiply(scores, itemScale.AsSpan(start, scores.Length), scores);
                TensorPrimitives.Multiply(scores, queryScale, scores);
            }
        }
    }

    /// <summary>Fixed scores per item (popularity).</summary>
    internal readonly struct ArrayScorer(float[] values) : IScorer
    {
        public void Score(int start, Span<float> scores) => values.AsSpan(start, scores.Length).CopyTo(scores);
    }

    /// <summary>
    /// The best min(destination.Length, eligible items) items of [0, itemCount), best first, skipping
    /// <paramref name="excludeA"/> and <paramref name="excludeB"/> (any order, duplicates and out-of-range indices allowed).
    /// </summary>
    public static int Select<TScorer>(TScorer scorer, int itemCount, ReadOnlySpan<int> excludeA, ReadOnlySpan<int> excludeB, Span<ScoredItem> destination)
        where TScorer : IScorer
    {
        var k = destination.Length;
        if (k == 0 || itemCount == 0)
        {
            return 0;
        }

        var excludedCount = excludeA.Length + excludeB.Length;
        var rented = excludedCount > 0 ? ArrayPool<int>.Shared.Rent(excludedCount) : null;
        try
        {
            var excluded = rented is null ? [] : rented.AsSpan(0, excludedCount);
            if (rented is not null)
            {
                excludeA.CopyTo(excluded);
                excludeB.CopyTo(excluded[excludeA.Length..]);
                if (!IsSorted(excluded))
                {
                    excluded.Sort();
                }
            }

            Span<float> scores = stackalloc float[Block];
            var top = new TopK<ScoredItem, BestFirst>(destination, default);
            var next = 0;
            for (var start = 0; start < itemCount; start += Block)
            {
                var length = Math.Min(Block, itemCount - start);
                var block = scores[..length];
                scorer.Score(start, block);
                for (var j = 0; j < length; j++)
                {
                    // Items come in ascending index, so an equal score never displaces: ties go to the lower index.
                    var score = block[j];
                    if ((top.IsFull && !(score > top.Worst.Score)) || !float.IsFinite(score))
                    {
                        continue;
                    }

                    var item = start + j;
                    while (next < excluded.Length && excluded[next] < item)
                    {
                        next++;
                    }

                    if (next < excluded.Length && excluded[next] == item)
                    {
                        continue;
                    }

                    top.Offer(new ScoredItem(item, score));
                }
            }

            return top.SortBestFirst();
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<int>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Higher score first, then lower item index: a total order.</summary>
    private readonly struct BestFirst : IComparer<ScoredItem>
    {
        public int Compare(ScoredItem x, ScoredItem y) => x.Score != y.Score ? y.Score.CompareTo(x.Score) : x.Item.CompareTo(y.Item);
    }

    private static bool IsSorted(ReadOnlySpan<int> values)
    {
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] < values[i - 1])
            {
                return false;
            }
        }

        return true;
    }
}
