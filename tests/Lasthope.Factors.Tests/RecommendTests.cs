using CsCheck;
using Lasthope.Factors;

namespace Lasthope.Factors.Tests;

public class RecommendTests
{
    /// <summary>Two users and five items in 2 factors, with hand-picked scores (user 0 scores item i as 5 - i).</summary>
    private static AlsModel Model()
    {
        float[] users = [1f, 0f, 0f, 1f];
        float[] items = [5f, 0f, 4f, 1f, 3f, 2f, 2f, 3f, 1f, 4f];
        return AlsModel.Create(IdMap.Create(["u0", "u1"]), IdMap.Create(["a", "b", "c", "d", "e"]), 2, users, items, new AlsOptions(), [[0, 2], [4]]);
    }

    [Fact]
    public void Recommend_ExcludesSeenItems_WhenFilterSeenIsTrue()
    {
        var top = new ScoredItem[3];
        var n = Model().Recommend(0, top, filterSeen: true);
        Assert.Equal(3, n);
        Assert.Equal([1, 3, 4], top.Select(s => s.Item));
        Assert.Equal([4f, 2f, 1f], top.Select(s => s.Score));
    }

    [Fact]
    public void Recommend_KeepsSeenItems_WhenFilterSeenIsFalse()
    {
        var top = new ScoredItem[3];
        Model().Recommend(0, top, filterSeen: false);
        Assert.Equal([0, 1, 2], top.Select(s => s.Item));
    }

    [Fact]
    public void Recommend_NeverReturnsExcludedItems_InAnyOrderWithDuplicatesAndUnknowns()
    {
        var top = new ScoredItem[5];
        var n = Model().Recommend(0, top, exclude: [3, 1, 3, 99, -1]);
        Assert.Equal(1, n);
        Assert.Equal(4, top[0].Item);
    }

    [Fact]
    public void Recommend_ReturnsFewer_WhenTheCatalogueRunsOut()
    {
        var top = new ScoredItem[10];
        Assert.Equal(4, Model().Recommend(1, top));
        Assert.DoesNotContain(top.Take(4), s => s.Item == 4);
        Assert.Equal(0, Model().Recommend(1, Span<ScoredItem>.Empty));
    }

    [Fact]
    public void Recommend_ById_UsesIds_AndThrowsForAnUnknownUser()
    {
        var model = Model();
        var list = model.Recommend("u1", 2, exclude: ["d"]);
        Assert.Equal(["c", "b"], list.Select(r => r.ItemId));
        Assert.Throws<KeyNotFoundException>(() => model.Recommend("nobody", 2));
    }

    [Fact]
    public void Recommend_BreaksTiesByLowerItemIndex()
    {
        var model = AlsModel.Create(IdMap.Create(["u"]), IdMap.Create(["a", "b", "c", "d"]), 1, [1f], [1f, 2f, 2f, 2f], new AlsOptions());
        var top = new ScoredItem[2];
        model.Recommend(0, top);
        Assert.Equal([1, 2], top.Select(s => s.Item));
    }

    [Fact]
    public void Recommend_EqualsAFullSortOfTheScores_ForAnyFactorsCountAndExclusions()
    {
        var gen = Gen.Select(Gen.Int[1, 700], Gen.Int[1, 20], Gen.Int[0, 30], Gen.Int[0, 1_000_000]);
        gen.Sample(t =>
        {
            var (items, count, excluded, seed) = t;
            var random = new Random(seed);
            const int F = 5;
            var itemFactors = new float[items * F];
            for (var k = 0; k < itemFactors.Length; k++)
            {
                // Coarse values so that ties happen.
                itemFactors[k] = random.Next(-3, 4);
            }

            var user = new float[F];
            for (var k = 0; k < F; k++)
            {
                user[k] = random.Next(-2, 3);
            }

            var exclude = Enumerable.Range(0, excluded).Select(_ => random.Next(items)).ToArray();
            var model = AlsModel.Create(IdMap.Empty, IdMap.Create(Enumerable.Range(0, items).Select(i => $"i{i}")), F, [], itemFactors, new AlsOptions());
            var top = new ScoredItem[count];
            var n = model.Recommend(user, top, exclude);

            var expected = Enumerable.Range(0, items)
                .Where(i => !exclude.Contains(i))
                .Select(i => new ScoredItem(i, model.Score(user, i)))
                .OrderByDescending(s => s.Score).ThenBy(s => s.Item)
                .Take(count).ToArray();
            Assert.Equal(expected, top.Take(n).ToArray());
        }, iter: 200);
    }

    [Fact]
    public void Similar_NeverReturnsTheItemItself_AndScoresByCosine()
    {
        // a = (1, 0), b = (2, 0) parallel, c = (0, 3) orthogonal, d = (1, 1) at 45 degrees, e = (0, 0) unseen.
        var model = AlsModel.Create(IdMap.Empty, IdMap.Create(["a", "b", "c", "d", "e"]), 2, [], [1f, 0f, 2f, 0f, 0f, 3f, 1f, 1f, 0f, 0f], new AlsOptions());
        var similar = model.Similar("a", 4);
        Assert.Equal(["b", "d"], similar.Take(2).Select(r => r.ItemId));
        Assert.Equal(1f, similar[0].Score, 6);
        Assert.Equal(MathF.Sqrt(0.5f), similar[1].Score, 6);
        Assert.DoesNotContain(similar, r => r.ItemId == "a");
        Assert.Throws<KeyNotFoundException>(() => model.Similar("zzz", 3));
    }

    [Fact]
    public void Recommend_WithFactors_FiltersTheGivenSeenItems()
    {
        var top = new ScoredItem[2];
        var n = Model().Recommend([1f, 0f], top, exclude: [1], seen: [0]);
        Assert.Equal(2, n);
        Assert.Equal([2, 3], top.Select(s => s.Item));
        Assert.Throws<ArgumentException>(() => Model().Recommend([1f, 0f, 0f], top));
    }
}
