using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lasthope.Factors;
using Microsoft.Extensions.DependencyInjection;

namespace Lasthope.Server.Tests;

public class RecommendApiTests
{
    /// <summary>Two taste groups over 40 keywords: users 0-29 use kw-0..19, users 30-59 use kw-20..39, each a random half.</summary>
    private static readonly Lazy<(AlsModel Model, byte[] Bytes)> Trained = new(() =>
    {
        var random = new Random(5);
        var interactions = new List<(string, string, float)>();
        for (var u = 0; u < 60; u++)
        {
            var offset = u < 30 ? 0 : 20;
            for (var i = 0; i < 20; i++)
            {
                if (random.NextDouble() < 0.5)
                {
                    interactions.Add(($"client-{u}", $"kw-{offset + i}", 1f));
                }
            }
        }

        var model = AlsTrainer.Train(InteractionMatrix.FromInteractions(interactions), new AlsOptions { Factors = 8, Iterations = 15, Regularization = 0.1f, Threads = 1, Seed = 3 });
        using var stream = new MemoryStream();
        model.Save(stream);
        return (model, stream.ToArray());
    });

    private static async Task<string> RegisterAsync(LoopbackServer server, byte[] bytes, string version)
    {
        using var content = new ByteArrayContent(bytes);
        using var response = await server.Client.PostAsync($"/v1/models?surface=recommend&activate=true&version={version}", content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("version").GetString()!;
    }

    private static async Task<JsonElement> RecommendAsync(LoopbackServer server, object request)
    {
        using var response = await server.Client.PostAsJsonAsync("/v1/recommend", request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static List<string> Ids(JsonElement response) => [.. response.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!)];

    private static async Task PostHistoryAsync(LoopbackServer server)
    {
        // Popularity: kw-5 is used by many women 25-34, kw-33 by many men 55+.
        await server.RankAsync(new { user = new { id = "w", age = 30, gender = "f" }, candidates = new[] { "x" } });
        await server.RankAsync(new { user = new { id = "m", age = 60, gender = "m" }, candidates = new[] { "x" } });
        var events = new List<object>();
        for (var i = 0; i < 30; i++)
        {
            events.Add(new { eventId = $"pw{i}", itemId = "kw-5", userId = $"woman-{i}" });
            events.Add(new { eventId = $"pm{i}", itemId = "kw-33", userId = $"man-{i}" });
        }

        await server.PostEventsAsync([.. events]);
    }

    [Fact]
    public async Task WithoutAModel_PopularItemsOfTheUsersSegmentServe_AsTheHeuristic()
    {
        await using var server = await LoopbackServer.StartAsync();
        await server.RankAsync(new { user = new { id = "w0" }, candidates = new[] { "x" } });
        for (var i = 0; i < 25; i++)
        {
            await server.RankAsync(new { user = new { id = $"woman-{i}", age = 30, gender = "f" }, candidates = new[] { "x" } });
            await server.RankAsync(new { user = new { id = $"man-{i}", age = 60, gender = "m" }, candidates = new[] { "x" } });
        }

        await PostHistoryAsync(server);
        await server.Server.Services.GetRequiredService<Lasthope.Server.Recommend.PopularityIndex>().RebuildAsync(CancellationToken.None);
        var women = await RecommendAsync(server, new { user = new { id = "new-w", age = 28, gender = "f" }, count = 1 });
        var men = await RecommendAsync(server, new { user = new { id = "new-m", age = 70, gender = "m" }, count = 1 });
        Assert.Equal("heuristic", women.GetProperty("servedBy").GetString());
        Assert.Equal(["kw-5"], Ids(women));
        Assert.Equal(["kw-33"], Ids(men));
        Assert.Equal("popular", women.GetProperty("items")[0].GetProperty("source").GetString());
    }

    [Fact]
    public async Task AKnownUser_GetsAlsRecommendations_WithoutSeenOrExcludedItems()
    {
        var (model, bytes) = Trained.Value;
        await using var server = await LoopbackServer.StartAsync();
        var version = await RegisterAsync(server, bytes, "als-a");
        var response = await RecommendAsync(server, new { user = new { id = "client-3" }, count = 5, exclude = new[] { "kw-1" } });
        Assert.Equal("model", response.GetProperty("servedBy").GetString());
        Assert.Equal(version, response.GetProperty("modelVersion").GetString());
        var ids = Ids(response);
        Assert.Equal(model.Recommend("client-3", 5, ["kw-1"]).Select(r => r.ItemId), ids);
        var seen = model.SeenItems(model.Users.GetIndex("client-3")).ToArray().Select(i => model.Items[i]).ToHashSet();
        Assert.DoesNotContain(ids, seen.Contains);
        Assert.DoesNotContain("kw-1", ids);
        Assert.All(ids, id => Assert.True(int.Parse(id[3..], System.Globalization.CultureInfo.InvariantCulture) < 20, $"{id} is not of client-3's taste group"));
        Assert.All(response.GetProperty("items").EnumerateArray(), i => Assert.Equal("als", i.GetProperty("source").GetString()));

        var unfiltered = await RecommendAsync(server, new { user = new { id = "client-3" }, count = 5, filterSeen = false });
        Assert.Contains(Ids(unfiltered), seen.Contains);
    }

    [Fact]
    public async Task ANewClientWithInteractionsInTheRequest_IsFoldedIn_AsTheModelWouldForIt()
    {
        var (model, bytes) = Trained.Value;
        await using var server = await LoopbackServer.StartAsync();
        await RegisterAsync(server, bytes, "als-b");
        var listed = new[] { "kw-22", "kw-25", "kw-31" };
        var response = await RecommendAsync(server, new { user = new { id = "brand-new" }, count = 4, interactions = listed.Select(i => new { itemId = i }).ToArray() });
        Assert.Equal("model", response.GetProperty("servedBy").GetString());
        Assert.Contains("folded_in", response.GetProperty("notes").EnumerateArray().Select(n => n.GetString()));
        var folded = model.FoldIn(listed.Select(i => new KeyValuePair<string, float>(i, 1f)));
        var expected = new ScoredItem[4];
        var n = model.Recommend(folded.Factors, expected, default, folded.SeenItems);
        Assert.Equal(expected.Take(n).Select(s => model.Items[s.Item]), Ids(response));
        Assert.DoesNotContain(Ids(response), listed.Contains);
    }

    [Fact]
    public async Task ANewClientWithInteractionsInTheStore_IsFoldedIn_FromThem()
    {
        var (_, bytes) = Trained.Value;
        await using var server = await LoopbackServer.StartAsync();
        await RegisterAsync(server, bytes, "als-c");
        await server.PostEventsAsync(new { eventId = "s1", itemId = "kw-2", userId = "stored-client" }, new { eventId = "s2", itemId = "kw-7", userId = "stored-client" });
        var response = await RecommendAsync(server, new { user = new { id = "stored-client" }, count = 3 });
        Assert.Equal("model", response.GetProperty("servedBy").GetString());
        Assert.Contains("folded_in", response.GetProperty("notes").EnumerateArray().Select(n => n.GetString()));
        Assert.DoesNotContain(Ids(response), new[] { "kw-2", "kw-7" }.Contains);
        Assert.All(Ids(response), id => Assert.True(int.Parse(id[3..], System.Globalization.CultureInfo.InvariantCulture) < 20));
    }

    [Fact]
    public async Task AClientsStoredInteractions_AreFoldedIn_AfterARestart_WithTheirWeights()
    {
        // The server folds in from memory (the store keeps no index by user): a restart must rebuild that memory from
        // the snapshot or the log, with the events' weights.
        var (model, bytes) = Trained.Value;
        var directory = LoopbackServer.NewDataDirectory();
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(LoopbackServer.DefaultNow);
        var first = await LoopbackServer.StartAsync(dataDirectory: directory, clock: clock);
        await RegisterAsync(first, bytes, "als-r");
        await first.PostEventsAsync(
            new { eventId = "r1", itemId = "kw-2", userId = "returning" },
            new { eventId = "r2", itemId = "kw-7", userId = "returning", type = "conversion" },
            new { eventId = "r3", itemId = "kw-9", userId = "someone-else" });
        var before = Ids(await RecommendAsync(first, new { user = new { id = "returning" }, count = 3 }));
        await first.StopKeepingDataAsync();

        await using var second = await LoopbackServer.StartAsync(dataDirectory: directory, clock: clock);
        var response = await RecommendAsync(second, new { user = new { id = "returning" }, count = 3 });
        Assert.Contains("folded_in", response.GetProperty("notes").EnumerateArray().Select(n => n.GetString()));
        Assert.Equal(before, Ids(response));
        var weights = second.Server.Services.GetRequiredService<Core.Events.EventTypeOptions>().Types;
        var folded = model.FoldIn([new("kw-7", (float)weights["conversion"]), new("kw-2", (float)weights["click"])]);
        var expected = new ScoredItem[3];
        var n = model.Recommend(folded.Factors, expected, default, folded.SeenItems);
        Assert.Equal(expected.Take(n).Select(s => model.Items[s.Item]), Ids(response));
    }

    [Fact]
    public async Task AUserWithNothingKnown_GetsPopularItems_AsAColdStart()
    {
        var (_, bytes) = Trained.Value;
        await using var server = await LoopbackServer.StartAsync();
        await PostHistoryAsync(server);
        await RegisterAsync(server, bytes, "als-d");
        var response = await RecommendAsync(server, new { user = new { id = "stranger" }, count = 2 });
        Assert.Equal("heuristic", response.GetProperty("servedBy").GetString());
        Assert.Contains("cold_start", response.GetProperty("notes").EnumerateArray().Select(n => n.GetString()));
        Assert.All(response.GetProperty("items").EnumerateArray(), i => Assert.Equal("popular", i.GetProperty("source").GetString()));
        Assert.Equal(2, Ids(response).Count);
    }

    [Fact]
    public async Task Similar_ReturnsTheModelsNearestItems_AndNotFoundForAnUnknownItem()
    {
        var (model, bytes) = Trained.Value;
        await using var server = await LoopbackServer.StartAsync();
        await RegisterAsync(server, bytes, "als-e");
        var similar = await server.Client.GetFromJsonAsync<JsonElement>("/v1/similar/kw-4?count=5");
        Assert.Equal(model.Similar("kw-4", 5).Select(r => r.ItemId), Ids(similar));
        using var missing = await server.Client.GetAsync("/v1/similar/no-such-keyword");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task ActivatingAnotherModel_SwapsItIn()
    {
        var (_, bytes) = Trained.Value;
        await using var server = await LoopbackServer.StartAsync();
        var first = await RegisterAsync(server, bytes, "als-v1");
        Assert.Equal(first, (await RecommendAsync(server, new { user = new { id = "client-1" } })).GetProperty("modelVersion").GetString());
        var second = await RegisterAsync(server, bytes, "als-v2");
        Assert.Equal(second, (await RecommendAsync(server, new { user = new { id = "client-1" } })).GetProperty("modelVersion").GetString());
    }

    [Fact]
    public async Task BadInput_IsAProblemNamingTheField()
    {
        await using var server = await LoopbackServer.StartAsync();
        using var noUser = await server.Client.PostAsJsonAsync("/v1/recommend", new { count = 3 });
        Assert.Equal(HttpStatusCode.BadRequest, noUser.StatusCode);
        Assert.True((await noUser.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("user.id", out _));
        using var badCount = await server.Client.PostAsJsonAsync("/v1/recommend", new { user = new { id = "u" }, count = 0 });
        Assert.True((await badCount.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("count", out _));
        using var corrupt = new ByteArrayContent([.. AlsModelFormat.Magic, 1, 2, 3]);
        using var refused = await server.Client.PostAsync("/v1/models?surface=recommend", corrupt);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
    }
}
