using Lasthope.Factors;

namespace Lasthope.Factors.Tests;

public class PopularityModelTests
{
    private static InteractionMatrix Data()
    {
        // Overall: a 4 users, b 4, c 3, d 1 of 7. Segment f (3 users): c 3, a 2. Segment m (4 users): b 4, a 2, d 1.
        var triples = new List<(string, string, float)>
        {
            ("f1", "a", 1), ("f2", "a", 1), ("f1", "c", 1), ("f2", "c", 1), ("f3", "c", 1),
            ("m1", "a", 1), ("m2", "a", 1), ("m1", "b", 1), ("m2", "b", 1), ("m3", "b", 1), ("m1", "d", 1), ("m4", "b", 1),
            ("m2", "c", -1),
        };
        return InteractionMatrix.FromInteractions(triples);
    }

    private static string? SegmentOf(string user) => user.StartsWith('f') ? "f" : user.StartsWith('m') ? "m" : null;

    [Fact]
    public void TopN_RanksByShareOfUsers_Overall()
    {
        var popularity = PopularityModel.Build(Data());
        var top = popularity.TopN(null, 10);
        Assert.Equal(["a", "b", "c", "d"], top.Select(r => r.ItemId));
        Assert.Equal(4f / 7, top[0].Score, 6);
        Assert.Equal(3f / 7, top[2].Score, 6); // m2's negative interaction with c does not count
    }

    [Fact]
    public void TopN_UsesTheSegmentsOwnList_WhenTheSegmentIsKnown()
    {
        var popularity = PopularityModel.Build(Data(), SegmentOf, minSegmentUsers: 3);
        Assert.Equal(["c", "a"], popularity.TopN("f", 2).Select(r => r.ItemId));
        Assert.Equal(["b", "a"], popularity.TopN("m", 2).Select(r => r.ItemId));
        Assert.Equal(["a", "b"], popularity.TopN("unknown-segment", 2).Select(r => r.ItemId));
    }

    [Fact]
    public void TopN_FillsFromTheOverallList_WhenTheSegmentRunsShort()
    {
        var popularity = PopularityModel.Build(Data(), SegmentOf, minSegmentUsers: 3);
        Assert.Equal(["c", "a", "b", "d"], popularity.TopN("f", 10).Select(r => r.ItemId));
    }

    [Fact]
    public void TopN_FallsBackToOverall_ForASegmentWithTooFewUsers()
    {
        var popularity = PopularityModel.Build(Data(), SegmentOf, minSegmentUsers: 4);
        Assert.False(popularity.HasSegment("f"));
        Assert.Equal(["a", "b"], popularity.TopN("f", 2).Select(r => r.ItemId));
    }

    [Fact]
    public void TopN_NeverReturnsExcludedItems()
    {
        var popularity = PopularityModel.Build(Data(), SegmentOf, minSegmentUsers: 3);
        Assert.Equal(["a", "d"], popularity.TopN("m", 2, exclude: ["b"]).Select(r => r.ItemId).Take(2));
        Assert.Equal(["c", "d"], popularity.TopN(null, 5, exclude: ["a", "b", "nope"]).Select(r => r.ItemId));
    }

    [Fact]
    public void FromCounts_MatchesBuild_ForOverallPopularity()
    {
        var data = Data();
        var model = AlsTrainer.Train(data, new AlsOptions { Factors = 2, Iterations = 1 });
        var fromModel = PopularityModel.FromCounts(model.Items, model.ItemUserCounts, data.Users.Count);
        Assert.Equal(PopularityModel.Build(data).TopN(null, 4), fromModel.TopN(null, 4));
    }
}
