using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Lasthope.Factors;

/// <summary>
/// Brute-force top-k: scores every item in blocks, skips an ascending list of excluded indices as it goes, and keeps
/// the k best in a min-heap held in the caller's destination span. No allocation beyond a pooled copy of the
/// exclusions. Ties go to the lower item index (items are scanned in ascending order and only a strictly greater
/// score displaces the heap's minimum).
/// </summary>
internal static class TopK
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
            var heap = destination;
            var count = 0;
            var next = 0;
            for (var start = 0; start < itemCount; start += Block)
            {
                var length = Math.Min(Block, itemCount - start);
                var block = scores[..length];
                scorer.Score(start, block);
                for (var j = 0; j < length; j++)
                {
                    var score = block[j];
                    if (count == k && !(score > heap[0].Score))
                    {
                        continue;
                    }

                    if (!float.IsFinite(score))
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

                    if (count < k)
                    {
                        heap[count] = new ScoredItem(item, score);
                        SiftUp(heap, count);
                        count++;
                    }
                    else
                    {
                        heap[0] = new ScoredItem(item, score);
                        SiftDown(heap, 0, count);
                    }
                }
            }

            // Heap sort in place: repeatedly move the minimum to the end, which leaves the best first.
            for (var end = count - 1; end > 0; end--)
            {
                (heap[0], heap[end]) = (heap[end], heap[0]);
                SiftDown(heap, 0, end);
            }

            return count;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<int>.Shared.Return(rented);
            }
        }
    }

    /// <summary>True when a is worse than b: lower score, or equal score and higher index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Worse(ScoredItem a, ScoredItem b) => a.Score < b.Score || (a.Score == b.Score && a.Item > b.Item);

    private static void SiftUp(Span<ScoredItem> heap, int i)
    {
        while (i > 0)
        {
            var parent = (i - 1) >> 1;
            if (!Worse(heap[i], heap[parent]))
            {
                return;
            }

            (heap[i], heap[parent]) = (heap[parent], heap[i]);
            i = parent;
        }
    }

    private static void SiftDown(Span<ScoredItem> heap, int i, int count)
    {
        while (true)
        {
            var left = (2 * i) + 1;
            if (left >= count)
            {
                return;
            }

            var worst = left;
            if (left + 1 < count && Worse(heap[left + 1], heap[left]))
            {
                worst = left + 1;
            }

            if (!Worse(heap[worst], heap[i]))
            {
                return;
            }

            (heap[i], heap[worst]) = (heap[worst], heap[i]);
            i = worst;
        }
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
