using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lasthope.Core.Events;
using Lasthope.Server.Cascade;
using Lasthope.Server.Configuration;

namespace Lasthope.Server.Tests;

/// <summary>
/// POST /v1/items and the features it feeds: item attributes as <c>item.NAME</c> and the user's recent clicks,
/// logged with every ranking of a surface that offers them, kept across a restart, and bound by models by name.
/// </summary>
public sealed class ItemAttributesTests
{
    private static readonly Dictionary<string, string?> Features = new()
    {
        ["Lasthope:Serving:Surfaces:home:ItemFeatures:0"] = "price",
        ["Lasthope:Serving:Surfaces:home:UserHistoryFeatures"] = "true",
    };

    [Fact]
    public async Task StoredAttributes_AndAUsersClicks_AreTheFeaturesLoggedWithARanking_AndSurviveARestart()
    {
        var server = await LoopbackServer.StartAsync(Features);
        var data = server.DataDirectory;
        try
        {
            using (var stored = await server.Client.PostAsJsonAsync("/v1/items", new
            {
                items = new object[]
                {
                    new { id = "a", category = "sports", attributes = new Dictionary<string, double> { ["price"] = 9.5 } },
                    new { id = "b", category = "sports", attributes = new Dictionary<string, double> { ["price"] = 1.25 } },
                    new { id = "c", category = "news" },
                },
            }))
            {
                Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
                Assert.Equal(3, (await stored.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("stored").GetInt32());
            }

            // u-1 clicks "a" twice: two clicks overall, two on "a", two in sports (so "b" gets 2 too), none in news.
            await server.RankAsync(new { requestId = "first", surface = "home", user = new { id = "u-1" }, candidates = new[] { "a", "b", "c" }, count = 3 });
            await server.PostEventsAsync(new { eventId = "e1", itemId = "a", userId = "u-1", requestId = "first" }, new { eventId = "e2", itemId = "a", userId = "u-1" });
            await server.RankAsync(new { requestId = "second", surface = "home", user = new { id = "u-1" }, candidates = new[] { "a", "b", "c", "d" }, count = 4 });
            await server.FlushAsync();
            Expect(await server.Store.FindRankingAsync("second"));
            await server.StopKeepingDataAsync();

            // After a restart the catalog and the clicks come back from the store.
            server = await LoopbackServer.StartAsync(Features, dataDirectory: data);
            await server.RankAsync(new { requestId = "third", surface = "home", user = new { id = "u-1" }, candidates = new[] { "a", "b", "c", "d" }, count = 4 });
            await server.FlushAsync();
            Expect(await server.Store.FindRankingAsync("third"));
        }
        finally
        {
            await server.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }

        static void Expect(RankingLog? ranking)
        {
            var log = ranking?.Features;
            Assert.NotNull(log);
            double Value(string item, string name) => log.Values[(log.ItemIds.ToList().IndexOf(item) * log.Names.Count) + log.Names.ToList().IndexOf(name)];
            Assert.Equal([9.5, 1.25], [Value("a", "item.price"), Value("b", "item.price")]);
            Assert.True(double.IsNaN(Value("c", "item.price")) && double.IsNaN(Value("d", "item.price")));
            Assert.All(new[] { "a", "b", "c", "d" }, item => Assert.Equal(2, Value(item, ContextFeatures.UserClicks)));
            Assert.Equal([2, 0, 0, 0], new[] { "a", "b", "c", "d" }.Select(i => Value(i, ContextFeatures.UserItemClicks)));
            Assert.Equal([2, 2, 0], new[] { "a", "b", "c" }.Select(i => Value(i, ContextFeatures.UserCategoryClicks)));
            Assert.True(double.IsNaN(Value("d", ContextFeatures.UserCategoryClicks))); // no category
        }
    }

    [Theory]
    [InlineData("""{"items":[{"id":"","category":"x"}]}""", "items[0].id")]
    [InlineData("""{"items":[{"id":"a"},{"id":"a"}]}""", "items[1].id")]
    [InlineData("""{"items":[{"id":"a","attributes":{"9lives":1}}]}""", "items[0].attributes")]
    [InlineData("""{"items":[{"id":"a","category":"bad\u0001"}]}""", "items[0].category")]
    [InlineData("""{"items":[null]}""", "items[0]")]
    [InlineData("""{"items":[{"id":"a","attributes":{"price":"cheap"}}]}""", "items[0].attributes.price")]
    [InlineData("""{}""", "items")]
    public async Task AnInvalidBatch_Is400NamingTheField_AndStoresNothing(string body, string field)
    {
        await using var server = await LoopbackServer.StartAsync();
        using var response = await server.Client.PostAsync("/v1/items", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        await foreach (var _ in ((Core.Storage.IItemStore)server.Store).ReadItemsAsync())
        {
            Assert.Fail("an invalid batch stored an item");
        }
    }

    [Fact]
    public async Task TooManyAttributes_OrItems_AreRefused_AndAFullCatalogIs422()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?> { ["Lasthope:Limits:MaxItems"] = "2", ["Lasthope:Limits:MaxItemsPerBatch"] = "3" });
        var many = Enumerable.Range(0, 65).ToDictionary(i => $"a{i}", i => (double)i);
        using (var response = await server.Client.PostAsJsonAsync("/v1/items", new { items = new[] { new { id = "x", attributes = many } } }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("at most 64", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var response = await server.Client.PostAsJsonAsync("/v1/items", new { items = new[] { new { id = "1" }, new { id = "2" }, new { id = "3" }, new { id = "4" } } }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("Limits:MaxItemsPerBatch", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var response = await server.Client.PostAsJsonAsync("/v1/items", new { items = new[] { new { id = "1" }, new { id = "2" } } }))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var response = await server.Client.PostAsJsonAsync("/v1/items", new { items = new[] { new { id = "2" }, new { id = "3" } } }))
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
            Assert.Contains("Limits:MaxItems", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // An update of a known item passes a full catalog.
        using (var response = await server.Client.PostAsJsonAsync("/v1/items", new { items = new[] { new { id = "2", category = "c" } } }))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public void AModelsItemAndHistoryColumns_BindOnASurfaceThatOffersThem_AndAreRefusedElsewhere()
    {
        var offers = new SurfaceOptions { ItemFeatures = ["price"], UserHistoryFeatures = true };
        var binding = FeatureBinding.Create(["item.price", ContextFeatures.UserCategoryClicks, BuiltInFeatures.HeuristicScore], "home", offers);
        Assert.True(binding.UsesItems && binding.UsesUserHistory);
        Assert.Equal([.. BuiltInFeatures.Names, "item.price", .. ContextFeatures.UserNames], FeatureBinding.Everything("home", offers).Names);

        var error = Assert.Throws<FeatureMismatchException>(() => FeatureBinding.Create(["item.price"], "plain", new SurfaceOptions()));
        Assert.Contains("ItemFeatures", error.Message, StringComparison.Ordinal);
        Assert.Throws<FeatureMismatchException>(() => FeatureBinding.Create([ContextFeatures.UserClicks], "plain", new SurfaceOptions { ItemFeatures = ["price"] }));
    }

    [Fact]
    public void ABadItemFeatureName_StopsTheStart_NamingTheKey()
    {
        var error = Assert.Throws<ArgumentException>(() => Hosting.LasthopeServer.LoadOptions(new Hosting.ServerSetup
        {
            Settings = new Dictionary<string, string?> { ["Lasthope:Serving:Surfaces:home:ItemFeatures:0"] = "no spaces" },
        }));
        Assert.Contains("Serving:Surfaces:home:ItemFeatures", error.Message, StringComparison.Ordinal);
    }
}

/// <summary>The bounds of the in-memory catalog and click history.</summary>
public sealed class ItemStateBoundsTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void TheCatalog_KeepsOnlyTheAttributesASurfaceUses()
    {
        var catalog = new State.ItemCatalog(10, kept: new HashSet<string> { "price" });
        Assert.True(catalog.TrySet([new Core.Items.ItemAttributes("a", "c", new Dictionary<string, double> { ["price"] = 1, ["junk"] = 2 }, Now)]));
        Assert.Equal(["price"], catalog.Find("a")!.Numbers.Keys);
        Assert.Equal("c", catalog.Find("a")!.Category);
    }

    [Fact]
    public void AFullHistory_DropsUsersWithoutARecentClick_ElseStartsAfresh_AndKeepsTheLatestClicksOfEach()
    {
        var history = new State.UserHistory(capacity: 10);
        for (var u = 0; u < 10; u++)
        {
            history.Record($"old-{u}", "x", Now - TimeSpan.FromDays(40));
        }

        history.Record("new", "a", Now); // full: the ten without a click in 30 days go
        Assert.Equal(1, history.Count);
        for (var u = 0; u < 9; u++)
        {
            history.Record($"recent-{u}", "x", Now);
        }

        history.Record("one-more", "b", Now); // full of recent users: cleared, then this one
        Assert.Equal(1, history.Count);

        for (var c = 0; c < State.UserHistory.PerUser + 5; c++)
        {
            history.Record("busy", $"item-{c}", Now.AddMinutes(c));
        }

        var recent = new string?[State.UserHistory.PerUser];
        Assert.Equal(State.UserHistory.PerUser, history.Recent("busy", Now.AddDays(1), recent));
        Assert.Equal($"item-{State.UserHistory.PerUser + 4}", recent[0]); // newest first
        Assert.Equal(0, history.Recent("busy", Now.AddDays(40), recent)); // past the window
    }
}

/// <summary>Generated model versions are unique even for the same file registered twice in one second.</summary>
public sealed class ModelVersionTests
{
    [Fact]
    public async Task TheSameModelRegisteredTwiceInOneSecond_GetsTwoVersions_ButAChosenNameIsNeverChanged()
    {
        var store = new Core.Storage.InMemoryEventStore();
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(LoopbackServer.DefaultNow);
        var registry = new Models.ModelRegistry(store, new ServingOptions(), new State.RecentRankings(0), clock, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var content = System.Text.Encoding.UTF8.GetBytes(TestModels.SmallModel);
        var first = await registry.RegisterAsync(content, "home", new Models.ModelMetadata(), TestContext.Current.CancellationToken);
        var second = await registry.RegisterAsync(content, "home", new Models.ModelMetadata(), TestContext.Current.CancellationToken);
        Assert.NotEqual(first.Version, second.Version);
        Assert.Equal(first.Version + "-2", second.Version);

        await registry.RegisterAsync(content, "home", new Models.ModelMetadata("chosen"), TestContext.Current.CancellationToken);
        var error = await Assert.ThrowsAsync<Models.ModelRejectedException>(() => registry.RegisterAsync(content, "home", new Models.ModelMetadata("chosen"), TestContext.Current.CancellationToken));
        Assert.Contains("'chosen' exists already", error.Message, StringComparison.Ordinal);
    }
}
