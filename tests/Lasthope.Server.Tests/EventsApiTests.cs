using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Lasthope.Server.Tests;

public class EventsApiTests
{
    [Fact]
    public async Task Events_AreAttributedToTheLoggedRanking_ForPositionAndSegment()
    {
        await using var server = await LoopbackServer.StartAsync();
        await server.RankAsync(new { requestId = "r1", user = new { id = "u1", age = 40, gender = "f" }, candidates = new[] { "a", "b", "c" }, count = 3 });
        var result = await server.PostEventsAsync(new { eventId = "e1", itemId = "c", userId = "u1", requestId = "r1" });
        Assert.Equal(1, result.GetProperty("accepted").GetInt32());

        var stored = new List<Lasthope.Core.Events.InteractionEvent>();
        await foreach (var entry in server.Store.ReadLogAsync(DateTimeOffset.MinValue))
        {
            if (entry.Event is { } e)
            {
                stored.Add(e);
            }
        }

        var click = Assert.Single(stored);
        Assert.Equal("f:35-44", click.Segment);
        Assert.Equal(3, click.Position);
        Assert.Equal("click", click.Type);
        Assert.Equal(1.0, click.Weight);
        Assert.Equal(LoopbackServer.DefaultNow, click.Time);
    }

    [Fact]
    public async Task Events_ARepeatedEventIdCountsOnce()
    {
        await using var server = await LoopbackServer.StartAsync();
        await server.RankAsync(new { requestId = "r1", user = new { id = "u1", segment = "f:0-24" }, candidates = new[] { "a" } });
        var first = await server.PostEventsAsync(new { eventId = "e1", itemId = "a", requestId = "r1" }, new { eventId = "e1", itemId = "a", requestId = "r1" });
        var second = await server.PostEventsAsync(new { eventId = "e1", itemId = "a", requestId = "r1" });
        Assert.Equal(1, first.GetProperty("accepted").GetInt32());
        Assert.Equal(1, first.GetProperty("duplicates").GetInt32());
        Assert.Equal(0, second.GetProperty("accepted").GetInt32());
        Assert.Equal(1, second.GetProperty("duplicates").GetInt32());
        var stats = await server.Client.GetFromJsonAsync<JsonElement>("/v1/items/a/stats");
        Assert.Equal(1, stats.GetProperty("overall").GetProperty("clicks7d").GetDouble());
    }

    [Fact]
    public async Task Events_AClickWithAnUnknownRequestId_CountsForTheUsersSegment()
    {
        await using var server = await LoopbackServer.StartAsync();
        await server.RankAsync(new { user = new { id = "u5", age = 22, gender = "m" }, candidates = new[] { "x" } });
        await server.PostEventsAsync(
            new { eventId = "e1", itemId = "a", userId = "u5", requestId = "no-such-request" },
            new { eventId = "e2", itemId = "a", userId = "u5" },
            new { eventId = "e3", itemId = "a", userId = "never-seen" });

        var stats = await server.Client.GetFromJsonAsync<JsonElement>("/v1/items/a/stats");
        var bySegment = stats.GetProperty("segments").EnumerateArray().ToDictionary(s => s.GetProperty("segment").GetString()!);
        Assert.Equal(2, bySegment["m:0-24"].GetProperty("clicks7d").GetDouble());
        Assert.Equal(1, bySegment["unknown"].GetProperty("clicks7d").GetDouble());
        Assert.Equal(3, stats.GetProperty("overall").GetProperty("clicks7d").GetDouble());
    }

    [Fact]
    public async Task Events_UseTheConfiguredWeightOfTheirType()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?> { ["Lasthope:Events:Types:purchase"] = "5" });
        await server.PostEventsAsync(
            new { eventId = "e1", itemId = "a", type = "conversion" },
            new { eventId = "e2", itemId = "a", type = "purchase" });
        var stats = await server.Client.GetFromJsonAsync<JsonElement>("/v1/items/a/stats");
        Assert.Equal(8, stats.GetProperty("overall").GetProperty("clicks7d").GetDouble());
    }

    [Fact]
    public async Task Events_InAMixedBatch_TheResponseListsEachRejectedIndexAndWhy()
    {
        await using var server = await LoopbackServer.StartAsync();
        using var response = await server.Client.PostAsJsonAsync("/v1/events", new
        {
            events = new object[]
            {
                new { eventId = "ok1", itemId = "a" },
                new { eventId = "bad1", itemId = "a", type = "hover" },
                new { itemId = "a" },
                new { eventId = "ok2", itemId = "b", timestamp = LoopbackServer.DefaultNow.AddHours(-3) },
            },
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, body.GetProperty("accepted").GetInt32());
        var rejected = body.GetProperty("rejected").EnumerateArray().ToList();
        Assert.Equal([1, 2], rejected.Select(r => r.GetProperty("index").GetInt32()));
        Assert.Equal("events[1].type", rejected[0].GetProperty("field").GetString());
        Assert.Contains("hover", rejected[0].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal("events[2].eventId", rejected[1].GetProperty("field").GetString());
    }

    [Fact]
    public async Task Events_WhenTheStoreIsUnreachable_Are503_AndNothingIsCounted()
    {
        await using var server = await LoopbackServer.StartAsync(store: new UnreachableStore());
        using var response = await server.Client.PostAsJsonAsync("/v1/events", new { events = new[] { new { eventId = "e1", itemId = "a" } } });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, server.State.Counters.ItemCount);
    }
}
