using CsCheck;
using Lasthope.Core.Selection;

namespace Lasthope.Core.Tests;

public sealed class TopKTests
{
    /// <summary>Descending value, then ascending index: the total order the rankers use.</summary>
    private readonly struct ByValue(int[] values) : IComparer<int>
    {
        public int Compare(int x, int y) => values[x] != values[y] ? values[y].CompareTo(values[x]) : x.CompareTo(y);
    }

    [Fact]
    public void Partial_PutsTheBestKFirst_InOrder_AndKeepsAPermutation()
    {
        // Small value ranges force ties, which the index breaks.
        Gen.Select(Gen.Int[0, 20].Array[0, 200], Gen.Int[0, 220]).Sample((values, k) =>
        {
            var order = new ByValue(values);
            var expected = Enumerable.Range(0, values.Length).Order(Comparer<int>.Create(order.Compare)).ToArray();
            var items = Enumerable.Range(0, values.Length).ToArray();
            TopK.Partial(items.AsSpan(), k, order);
            var kept = Math.Min(k, values.Length);
            Assert.Equal(expected[..kept], items[..kept]);
            Assert.Equal(Enumerable.Range(0, values.Length), items.Order());
        });
    }

    [Fact]
    public void Offer_KeepsTheBestOfAStream_AndSaysWhatItKept()
    {
        Gen.Select(Gen.Int[-5, 5].Array[0, 100], Gen.Int[0, 10]).Sample((values, k) =>
        {
            var order = new ByValue(values);
            var destination = new int[k];
            var top = new TopK<int, ByValue>(destination, order);
            var kept = 0;
            for (var i = 0; i < values.Length; i++)
            {
                kept += top.Offer(i) ? 1 : 0;
            }

            var n = top.SortBestFirst();
            var expected = Enumerable.Range(0, values.Length).Order(Comparer<int>.Create(order.Compare)).Take(k).ToArray();
            Assert.Equal(expected.Length, n);
            Assert.Equal(expected, destination[..n]);
            Assert.True(kept >= n);
        });
    }

    [Fact]
    public void Offer_RefusesAnItemNoBetterThanTheWorst_WhenFull()
    {
        int[] values = [5, 3, 9];
        var top = new TopK<int, ByValue>(new int[2], new ByValue(values));
        Assert.True(top.Offer(0));
        Assert.True(top.Offer(1));
        Assert.True(top.IsFull);
        Assert.Equal(1, top.Worst);
        var candidate = 2;
        Assert.True(top.Offer(ref candidate));
        Assert.Equal(1, candidate);
        Assert.False(top.Offer(1));
    }
}
