using Lasthope.Core.Events;
using Lasthope.Core.Serving;
using Lasthope.Server.Configuration;
using Lasthope.Server.Hosting;
using Lasthope.Server.Ranking;

namespace Lasthope.Server.Tests;

public sealed class ExplorationTests
{
    private static ServedItem[] List(int n) => [.. Enumerable.Range(0, n).Select(i => new ServedItem($"item-{i}", i + 1, n - i, ItemSource.Heuristic))];

    [Fact]
    public void Propensities_AreTheFrequencies_WithWhichThePolicyPutsEachItemAtEachPosition()
    {
        var options = new ExplorationOptions { Fraction = 0.3, Top = 4 };
        const int Requests = 40_000;
        var seen = new int[4, 4]; // unexplored position x served position
        var explored = 0;
        for (var r = 0; r < Requests; r++)
        {
            var served = List(6);
            explored += Exploration.Apply(served, options, $"request-{r}") ? 1 : 0;
            for (var p = 0; p < 6; p++)
            {
                var original = int.Parse(served[p].ItemId[5..], System.Globalization.CultureInfo.InvariantCulture);
                if (p >= 4)
                {
                    Assert.Equal((original, 1.0), (p, served[p].Propensity));
                    continue;
                }

                seen[original, p]++;
                var expected = original == p ? 0.7 + (0.3 / 4) : 0.3 / 4;
                Assert.Equal(expected, served[p].Propensity, 1e-12);
                Assert.Equal(p + 1, served[p].Position);
            }
        }

        // Binomial sd of a share near 0.075 over 40,000 is 0.0013; allow 4 sd.
        Assert.InRange(explored / (double)Requests, 0.3 - 0.01, 0.3 + 0.01);
        for (var o = 0; o < 4; o++)
        {
            for (var p = 0; p < 4; p++)
            {
                var expected = o == p ? 0.7 + 0.075 : 0.075;
                Assert.InRange(seen[o, p] / (double)Requests, expected - 0.006, expected + 0.006);
            }
        }
    }

    [Fact]
    public void Apply_IsTheSameForTheSameRequestId_AndOffLeavesTheListAsItIs()
    {
        var options = new ExplorationOptions { Fraction = 1, Top = 5 };
        var a = List(8);
        var b = List(8);
        Assert.True(Exploration.Apply(a, options, "replayed"));
        Assert.True(Exploration.Apply(b, options, "replayed"));
        Assert.Equal(a, b);
        var untouched = List(8);
        Assert.False(Exploration.Apply(untouched, null, "x"));
        Assert.Equal(List(8), untouched);
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

        var plain = await server.RankAsync(new { requestId = "r-2", surface = "default", user = new { id = "u" }, candidates, count = 5 });
        Assert.False(plain.GetProperty("explored").GetBoolean());
        Assert.All(plain.GetProperty("items").EnumerateArray(), i => Assert.Equal(1, i.GetProperty("propensity").GetDouble()));
    }

    [Theory]
    [InlineData("Lasthope:Serving:Surfaces:home:Exploration:Fraction", "1.5", "Serving:Surfaces:home:Exploration:Fraction")]
    [InlineData("Lasthope:Serving:Surfaces:home:Exploration:Top", "1", "Serving:Surfaces:home:Exploration:Top")]
    public void BadExplorationSettings_StopTheStart_NamingTheKey(string key, string value, string named)
    {
        var error = Assert.Throws<ArgumentException>(() => LasthopeServer.LoadOptions(new ServerSetup { Settings = new Dictionary<string, string?> { [key] = value } }));
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }
}
