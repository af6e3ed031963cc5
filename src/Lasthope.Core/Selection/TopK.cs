using System.Runtime.CompilerServices;

namespace Lasthope.Core.Selection;

/// <summary>
/// The one top-k selection of Lasthope: a bounded heap that keeps the k best of a stream in the caller's span, with
/// its worst at the root, so a candidate costs one comparison unless it is better than the worst kept (then
/// O(log k)). <paramref name="order"/> ranks better items first: <c>order.Compare(a, b) &lt; 0</c> means a ranks
/// before b; give it a total order (break score ties by id or index) and selection is deterministic.
/// </summary>
/// <typeparam name="T">The items.</typeparam>
/// <typeparam name="TOrder">The ranking order, a struct so comparisons inline.</typeparam>
public ref struct TopK<T, TOrder>(Span<T> destination, TOrder order)
    where TOrder : IComparer<T>
{
    private readonly Span<T> _heap = destination;
    private readonly TOrder _order = order;
    private int _count;

    /// <summary>How many items are kept.</summary>
    public readonly int Count => _count;

    /// <summary>Whether k items are kept, so a new one must beat <see cref="Worst"/>.</summary>
    public readonly bool IsFull => _count == _heap.Length;

    /// <summary>The worst item kept (the first to be displaced); valid when <see cref="Count"/> &gt; 0.</summary>
    public readonly T Worst => _heap[0];

    /// <summary>Offers an item; returns false when it was not kept (no room and no better than the worst).</summary>
    public bool Offer(T item)
    {
        var displaced = item;
        return Offer(ref displaced);
    }

    /// <summary>
    /// Offers an item; when it displaces the worst kept, <paramref name="item"/> becomes the displaced one, so a
    /// selection in place can swap it back where the candidate was (<see cref="TopK.Partial"/>).
    /// </summary>
    public bool Offer(ref T item)
    {
        if (_count < _heap.Length)
        {
            _heap[_count] = item;
            SiftUp(_count++);
            return true;
        }

        if (_count == 0 || !Better(item, _heap[0]))
        {
            return false;
        }

        (_heap[0], item) = (item, _heap[0]);
        SiftDown(0, _count);
        return true;
    }

    /// <summary>Sorts the kept items best first, in place (heap sort: the worst goes to the end each time); returns <see cref="Count"/>.</summary>
    public readonly int SortBestFirst()
    {
        for (var end = _count - 1; end > 0; end--)
        {
            (_heap[0], _heap[end]) = (_heap[end], _heap[0]);
            SiftDown(0, end);
        }

        return _count;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly bool Better(T a, T b) => _order.Compare(a, b) < 0;

    private readonly void SiftUp(int i)
    {
        while (i > 0)
        {
            var parent = (i - 1) >> 1;
            if (!Better(_heap[parent], _heap[i]))
            {
                return;
            }

            (_heap[i], _heap[parent]) = (_heap[parent], _heap[i]);
            i = parent;
        }
    }

    private readonly void SiftDown(int i, int count)
    {
        while (true)
        {
            var left = (2 * i) + 1;
            if (left >= count)
            {
                return;
            }

            var worst = left;
            if (left + 1 < count && Better(_heap[left], _heap[left + 1]))
            {
                worst = left + 1;
            }

            if (!Better(_heap[i], _heap[worst]))
            {
                return;
            }

            (_heap[i], _heap[worst]) = (_heap[worst], _heap[i]);
            i = worst;
        }
    }
}

/// <summary>Selections built on <see cref="TopK{T, TOrder}"/>.</summary>
public static class TopK
{
    /// <summary>
    /// Rearranges <paramref name="items"/> so that its first min(k, n) hold its best items, best first; the rest
    /// follow in no particular order (the span stays a permutation of itself). O(n log k) comparisons and no
    /// allocation: a ranking that serves 10 items, or re-ranks the top 300 of 1,000, sorts no more than it needs.
    /// </summary>
    public static void Partial<T, TOrder>(Span<T> items, int k, TOrder order)
        where TOrder : IComparer<T>
    {
        k = Math.Clamp(k, 0, items.Length);
        var top = new TopK<T, TOrder>(items[..k], order);
        for (var i = 0; i < k; i++)
        {
            top.Offer(items[i]);
        }

        for (var i = k; i < items.Length; i++)
        {
            top.Offer(ref items[i]);
        }

        top.SortBestFirst();
    }
}
