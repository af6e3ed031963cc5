using System.Text.Json;
using Lasthope.Core.Serving;

namespace Lasthope.Server.Tests;

public class RankApiTests
{
    [Fact]
    public async Task Rank_ServesTheHeuristic_WithTheServedPathContract()
    {
        await using var server = await LoopbackServer.StartAsync();
        var response = await server.RankAsync(new
        {
            surface = "home",
            user = new { id = "u1", age = 30, gender = "f" },
            candidates = new object[] { "a", "b", new { id = "c", features = new { price = 9.5 } } },
            count = 2,
        });

        Assert.Equal("heuristic", response.GetProperty("servedBy").GetString());
        Assert.False(string.IsNullOrEmpty(response.GetProperty("requestId").GetString()));
        Assert.StartsWith("ctr-v1(", response.GetProperty("heuristicVersion").GetString(), StringComparison.Ordinal);
        Assert.Equal("f:25-34", response.GetProperty("segment").GetString());
        var items = response.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(2, items.Count);
        Assert.Equal([1, 2], items.Select(i => i.GetProperty("rank").GetInt32()));
        Assert.All(items, i => Assert.Equal("heuristic", i.GetProperty("source").GetString()));
        Assert.True(response.GetProperty("timings").TryGetProperty("heuristic", out _));
        Assert.True(response.GetProperty("timings").GetProperty("total").GetDouble() >= 0);
        var notes = response.GetProperty("notes").EnumerateArray().Select(n => n.GetString()).ToList();
        Assert.Contains("empty_counters", notes);
        Assert.Contains("unknown_items", notes);
        Assert.Equal(3, response.GetProperty("unknownItems").GetInt32());
    }

    [Fact]
    public async Task Rank_LogsTheServedRanking_WithPositionsAndPath()
    {
        await using var server = await LoopbackServer.StartAsync();
        await server.RankAsync(new { requestId = "req-1", surface = "home", user = new { id = "u1", segment = "m:35-44" }, candidates = new[] { "a", "b", "c" }, count = 3 });
        await server.FlushAsync();

        var logged = await server.Store.FindRankingAsync("req-1");
        Assert.NotNull(logged);
        Assert.Equal("u1", logged.UserId);
        Assert.Equal("m:35-44", logged.Segment);
        Assert.Equal("home", logged.Surface);
        Assert.Equal(ServedBy.Heuristic, logged.ServedBy);
        Assert.Equal(LoopbackServer.DefaultNow, logged.Time);
        Assert.Equal(["a", "b", "c"], logged.Items.Select(i => i.ItemId));
        Assert.Equal([1, 2, 3], logged.Items.Select(i => i.Position));
        Assert.Equal(3, (await server.Store.CountAsync()).Impressions);
    }

    [Fact]
    public async Task Rank_PutsTheItemClickedInTheUsersSegmentFirst_ButNotForOtherSegments()
    {
        await using var server = await LoopbackServer.StartAsync();
        var candidates = new[] { "a", "b", "c", "d" };
        for (var i = 0; i < 30; i++)
        {
            var ranking = await server.RankAsync(new { requestId = $"r{i}", user = new { id = $"u{i}", age = 20, gender = "m" }, candidates, count = 4 });
            Assert.Equal("m:0-24", ranking.GetProperty("segment").GetString());
            await server.RankAsync(new { requestId = $"f{i}", user = new { id = $"w{i}", age = 60, gender = "f" }, candidates, count = 4 });
            if (i % 2 == 0)
            {
                await server.PostEventsAsync(new { eventId = $"e{i}", itemId = "c", userId = $"u{i}", requestId = $"r{i}" });
                await server.PostEventsAsync(new { eventId = $"g{i}", itemId = "b", userId = $"w{i}", requestId = $"f{i}" });
            }
        }

        var men = await server.RankAsync(new { user = new { id = "x", segment = "m:0-24" }, candidates, count = 4 });
        var women = await server.RankAsync(new { user = new { id = "y", segment = "f:55+" }, candidates, count = 4 });
        Assert.Equal("c", men.GetProperty("items")[0].GetProperty("id").GetString());
        Assert.Equal("b", women.GetProperty("items")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task Rank_HonoursTheExcludeList_AndDeduplicatesCandidates()
    {
        await using var server = await LoopbackServer.StartAsync();
        var response = await server.RankAsync(new { user = new { id = "u" }, candidates = new[] { "a", "b", "a", "c" }, exclude = new[] { "b" }, count = 10 });
        var ids = response.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()).ToList();
        Assert.Equal(["a", "c"], ids);
    }

    [Fact]
    public async Task Rank_ForAnUnknownUser_StillAnswers_AndSaysSo()
    {
        await using var server = await LoopbackServer.StartAsync();
        var response = await server.RankAsync(new { user = new { id = "stranger" }, candidates = new[] { "a", "b" } });
        Assert.Equal("unknown", response.GetProperty("segment").GetString());
        Assert.Contains("unknown_user", response.GetProperty("notes").EnumerateArray().Select(n => n.GetString()));
        Assert.Equal(2, response.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Rank_RemembersAUsersSegment_FromEarlierRequests()
    {
        await using var server = await LoopbackServer.StartAsync();
        await server.RankAsync(new { user = new { id = "u9", age = 47, gender = "male" }, candidates = new[] { "a" } });
        var later = await server.RankAsync(new { user = new { id = "u9" }, candidates = new[] { "a" } });
        Assert.Equal("m:45-54", later.GetProperty("segment").GetString());
    }

    [Fact]
    public async Task Rank_WhenTheStoreIsUnreachable_StillAnswers_AndSaysSo()
    {
        await using var server = await LoopbackServer.StartAsync(store: new UnreachableStore());
        var first = await server.RankAsync(new { user = new { id = "u1" }, candidates = new[] { "a", "b" } });
        Assert.Equal(2, first.GetProperty("items").GetArrayLength());
        Assert.Contains("store_unavailable", first.GetProperty("notes").EnumerateArray().Select(n => n.GetString()));

        // Once the impression log has failed to write, every response says so, even for users the server knows.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        JsonElement later;
        do
        {
            later = await server.RankAsync(new { user = new { id = "u2", age = 30, gender = "f" }, candidates = new[] { "a", "b" } });
        }
        while (!later.GetProperty("notes").EnumerateArray().Any(n => n.GetString() == "store_unavailable") && DateTime.UtcNow < deadline);

        Assert.Contains("store_unavailable", later.GetProperty("notes").EnumerateArray().Select(n => n.GetString()));
        Assert.Equal("heuristic", later.GetProperty("servedBy").GetString());
    }
}
