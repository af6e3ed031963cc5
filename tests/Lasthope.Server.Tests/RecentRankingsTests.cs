using Lasthope.Core.Events;
using Lasthope.Core.Serving;
using Lasthope.Server.Ingestion;
using Lasthope.Server.State;

namespace Lasthope.Server.Tests;

public class RecentRankingsTests
{
    [Fact]
    public void CompactForm_KeepsPositionsThatAreNotOneTwoThree()
    {
        // An imported log line: one item shown at position 3 (Open Bandit's layout).
        var recent = new RecentRankings(capacity: 10);
        recent.Add(Ranking("r1", ("a", 3)));
        recent.Add(Ranking("r2", ("x", 1), ("y", 2)));

        Assert.Equal(3, recent.Find("r1")!.PositionOf("a"));
        Assert.Null(recent.Find("r1")!.PositionOf("x"));
        Assert.Equal(2, recent.Find("r2")!.PositionOf("y"));
        Assert.Null(recent.Find("r2")!.Positions); // served order needs no positions stored
    }

    [Fact]
    public void Capacity_EvictsTheOldestFirst()
    {
        var recent = new RecentRankings(capacity: 2);
        recent.Add(Ranking("r1", ("a", 1)));
        recent.Add(Ranking("r2", ("a", 1)));
        recent.Add(Ranking("r3", ("a", 1)));

        Assert.Null(recent.Find("r1"));
        Assert.NotNull(recent.Find("r3"));
        Assert.Equal(2, recent.Count);
    }

    private static RankingLog Ranking(string id, params (string Item, int Position)[] items) => new()
    {
        RequestId = id,
        Time = DateTimeOffset.UnixEpoch,
        Segment = "f:25-34",
        Surface = "home",
        Items = [.. items.Select(i => new ServedItem(i.Item, i.Position, 0, ItemSource.Heuristic))],
    };
}
