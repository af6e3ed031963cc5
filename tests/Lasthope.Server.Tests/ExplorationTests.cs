using Lasthope.Core.Events;
using Lasthope.Core.Serving;
using Lasthope.Server.Configuration;
using Lasthope.Server.Hosting;
using Lasthope.Server.Ranking;

namespace Lasthope.Server.Tests;

public sealed class ExplorationTests
{
    /// <summary>Draws the shown positions of <paramref name="count"/> from <paramref name="candidates"/>, with each one's propensity.</summary>
    private static (bool Explored, int[] Drawn, double[] Propensities) Draw(ExplorationOptions? options, int candidates, int count, string requestId)
    {
        var drawn = new int[count];
        var pool = Exploration.PoolSize(options, candidates);
        var explored = Exploration.Draw(Exploration.Explores(options, requestId), pool, requestId, drawn);
        return (explored, drawn, [.. drawn.Select((from, p) => Exploration.Propensity(options, pool, p, from))]);
    }

    [Theory]
    [InlineData(6, 4)]  // more shown than the pool: the top 4 shuffled, positions 5 and 6 fixed
    [InlineData(3, 8)]  // fewer shown than the pool: 3 drawn from the top 8, items from deeper shown
    public void Propensities_AreTheFrequencies_WithWhichThePolicyPutsEachItemAtEachPosition(int count, int top)
    {
        var options = new ExplorationOptions { Fraction = 0.3, Top = top };
        const int Requests = 40_000;
        var seen = new int[top, count]; // unexplored position x served position
        var explored = 0;
        for (var r = 0; r < Requests; r++)
        {
            var (wasExplored, drawn, propensities) = Draw(options, candidates: 20, count, $"request-{r}");
            explored += wasExplored ? 1 : 0;
            Assert.Equal(count, drawn.Distinct().Count());
            for (var p = 0; p < count; p++)
            {
                if (p >= top)
                {
                    Assert.Equal((p, 1.0), (drawn[p], propensities[p]));
                    continue;
                }

                Assert.InRange(drawn[p], 0, top - 1);
                seen[drawn[p], p]++;
                Assert.Equal(drawn[p] == p ? 0.7 + (0.3 / top) : 0.3 / top, propensities[p], 1e-12);
            }
        }

        // The logged propensities are the frequencies: binomial sd of a share near 0.3 / n over 40,000 is under 0.0014.
        Assert.InRange(explored / (double)Requests, 0.3 - 0.01, 0.3 + 0.01);
        for (var o = 0; o < top; o++)
        {
            for (var p = 0; p < Math.Min(count, top); p++)
            {
                var expected = o == p ? 0.7 + (0.3 / top) : 0.3 / top;
                Assert.InRange(seen[o, p] / (double)Requests, expected - 0.006, expected + 0.006);
            }
        }
    }

    [Fact]
    public void Draw_IsTheSameForTheSameRequestId_AndOffLeavesTheListAsItIs()
    {
        var options = new ExplorationOptions { Fraction = 1, Top = 5 };
        Assert.Equal(Draw(options, 8, 8, "replayed"), Draw(options, 8, 8, "replayed"), (a, b) => a.Drawn.SequenceEqual(b.Drawn) && a.Explored == b.Explored);
        Assert.True(Draw(options, 8, 8, "replayed").Explored);
        var (explored, drawn, propensities) = Draw(null, 8, 8, "x");
        Assert.False(explored);
        Assert.Equal(Enumerable.Range(0, 8), drawn);
        Assert.All(propensities, p => Assert.Equal(1, p));
        Assert.False(Draw(options, candidates: 1, 1, "replayed").Explored); // a pool of one cannot be drawn from
        Assert.Null(Exploration.For(new SurfaceOptions { Exploration = new ExplorationOptions { Fraction = 0 } }, null));
        var arm = new ArmOptions { Name = "b", Exploration = new ExplorationOptions { Fraction = 0.5 } };
        Assert.Same(arm.Exploration, Exploration.For(new SurfaceOptions(), arm));
    }

    [Fact]
    public async Task AnExploringSurface_ServesAndLogsPropensities_AndSaysExplored()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lasthope:Serving:Surfaces:home:Exploration:Fraction"] = "1",
            ["Lasthope:Serving:Surfaces:home:Exploration:Top"] = "3",
        });
        string[] candidates = [.. Enumerable.Range(0, 10).Select(i => $"c{i}")];
        var response = await server.RankAsync(new { requestId = "r-1", surface = "home", user = new { id = "u" }, candidates, count = 5 });
        Assert.True(response.GetProperty("explored").GetBoolean());
        var items = response.GetProperty("items").EnumerateArray().ToArray();
        Assert.Equal([1.0 / 3, 1.0 / 3, 1.0 / 3, 1, 1], items.Select(i => i.GetProperty("propensity").GetDouble()));
        Assert.Equal([1, 2, 3, 4, 5], items.Select(i => i.GetProperty("rank").GetInt32()));

        await server.FlushAsync();
        var logged = await server.Store.FindRankingAsync("r-1");
        Assert.NotNull(logged);
        Assert.True(logged.Explored);
        Assert.Equal(items.Select(i => i.GetProperty("id").GetString()), logged.Items.Select(i => i.ItemId));
        Assert.Equal([1.0 / 3, 1.0 / 3, 1.0 / 3, 1, 1], logged.Items.Select(i => i.Propensity));
        Assert.Equal(new ExplorationLog(1, 3, 3), logged.Exploration);

        var plain = await server.RankAsync(new { requestId = "r-2", surface = "default", user = new { id = "u" }, candidates, count = 5 });
        Assert.False(plain.GetProperty("explored").GetBoolean());
        Assert.All(plain.GetProperty("items").EnumerateArray(), i => Assert.Equal(1, i.GetProperty("propensity").GetDouble()));
    }

    [Fact]
    public async Task APoolDeeperThanTheList_ShowsItemsFromDeeper_AndLogsTheirFeatures()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lasthope:Serving:Surfaces:home:Exploration:Fraction"] = "1",
            ["Lasthope:Serving:Surfaces:home:Exploration:Top"] = "8",
        });
        string[] candidates = [.. Enumerable.Range(0, 10).Select(i => $"c{i}")];
        var unexplored = await server.RankAsync(new { requestId = "plain", surface = "default", user = new { id = "u" }, candidates, count = 3 });
        var top3 = unexplored.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()).ToHashSet();
        var shown = new HashSet<string?>();
        for (var r = 0; r < 20; r++)
        {
            var response = await server.RankAsync(new { requestId = $"deep-{r}", surface = "home", user = new { id = "u" }, candidates, count = 3 });
            Assert.All(response.GetProperty("items").EnumerateArray(), i => Assert.Equal(1.0 / 8, i.GetProperty("propensity").GetDouble(), 1e-12));
            shown.UnionWith(response.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()));
        }

        // 20 draws of 3 from the top 8 show more than the unexplored top 3 (all 8, but for a chance of 8 * (7/8)^60).
        Assert.True(shown.Except(top3).Any(), $"shown only {string.Join(",", shown)}");
        await server.FlushAsync();
        var logged = await server.Store.FindRankingAsync("deep-0");
        Assert.NotNull(logged?.Features);

        // The features of the whole unexplored top 8 (LogTop 30 > n' = 8), in its order (the heuristic's: it served);
        // the shown items among them.
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8], HeuristicRanks(logged.Features));
        Assert.Subset(logged.Features.ItemIds.ToHashSet(), logged.Items.Select(i => i.ItemId).ToHashSet());
        Assert.Equal(new ExplorationLog(1, 8, 8), logged.Exploration);
    }

    [Fact]
    public async Task ALoggedTopShallowerThanThePool_LogsItThenTheShownItemsFromDeeper()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lasthope:Serving:Surfaces:home:Exploration:Fraction"] = "1",
            ["Lasthope:Serving:Surfaces:home:Exploration:Top"] = "8",
            ["Lasthope:Serving:Surfaces:home:Exploration:LogTop"] = "2",
        });
        string[] candidates = [.. Enumerable.Range(0, 10).Select(i => $"c{i}")];
        for (var r = 0; r < 10; r++)
        {
            await server.RankAsync(new { requestId = $"shallow-{r}", surface = "home", user = new { id = "u" }, candidates, count = 3 });
        }

        await server.FlushAsync();
        for (var r = 0; r < 10; r++)
        {
            var logged = await server.Store.FindRankingAsync($"shallow-{r}");
            Assert.NotNull(logged?.Features);
            Assert.Equal(new ExplorationLog(1, 8, 2), logged.Exploration);

            // The unexplored top 2 first, then the shown items from deeper, in served order.
            var ranks = HeuristicRanks(logged.Features);
            Assert.Equal([1, 2], ranks[..2]);
            var top2 = logged.Features.ItemIds.Take(2).ToHashSet();
            Assert.Equal(logged.Items.Select(i => i.ItemId).Where(id => !top2.Contains(id)), logged.Features.ItemIds.Skip(2));
            Assert.All(ranks[2..], rank => Assert.InRange(rank, 3, 8));
        }
    }

    private static int[] HeuristicRanks(FeatureLog log)
    {
        var column = log.Names.ToList().IndexOf("heuristic_rank");
        return [.. Enumerable.Range(0, log.ItemIds.Count).Select(r => (int)log.Values[(r * log.Names.Count) + column])];
    }

    [Theory]
    [InlineData("Lasthope:Serving:Surfaces:home:Exploration:Fraction", "1.5", "Serving:Surfaces:home:Exploration:Fraction")]
    [InlineData("Lasthope:Serving:Surfaces:home:Exploration:Top", "1", "Serving:Surfaces:home:Exploration:Top")]
    [InlineData("Lasthope:Serving:Surfaces:home:Exploration:LogTop", "301", "Serving:Surfaces:home:Exploration:LogTop")]
    public void BadExplorationSettings_StopTheStart_NamingTheKey(string key, string value, string named)
    {
        var error = Assert.Throws<ArgumentException>(() => LasthopeServer.LoadOptions(new ServerSetup { Settings = new Dictionary<string, string?> { [key] = value } }));
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }
}
