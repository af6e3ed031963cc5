using System.Diagnostics;
using System.Text.Json;
using Lasthope.Server.Redis;
using Lasthope.Server.State;
using Lasthope.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Lasthope.Server.Tests;

/// <summary>Redis as the replicas' shared state (a real server the test starts): a shortcut that is never needed for an answer.</summary>
public sealed class SharedStateTests
{
    private static Task<LoopbackServer> StartAsync(RedisServer redis, FakeTimeProvider? clock = null) => LoopbackServer.StartAsync(
        new Dictionary<string, string?>
        {
            ["Lasthope:Redis:Configuration"] = redis.ConnectionString,

            // Unhurried, as the test servers' budgets are: a loaded machine must not turn a hit into a miss.
            ["Lasthope:Redis:TimeoutMs"] = "2000",
        },
        clock: clock,
        services: s => s.AddRedisSharedState());

    private static ISharedState Shared(LoopbackServer server) => server.Server.Services.GetRequiredService<ISharedState>();

    [Fact]
    public async Task AClickPostedToAServerWithAnotherStore_AttributesToTheRankingTheFirstServed_ThroughRedis()
    {
        var redis = await RedisServer.RequireAsync();
        var clock = new FakeTimeProvider(LoopbackServer.DefaultNow);

        // Two servers on two stores: only Redis can carry a ranking from one to the other.
        await using var a = await StartAsync(redis, clock);
        await using var b = await StartAsync(redis, clock);
        Assert.Equal("redis", Shared(b).Name);
        string[] items = ["a", "b", "c", "d"];
        var requestId = "shared-" + Guid.NewGuid().ToString("N");
        var user = "u-" + Guid.NewGuid().ToString("N");
        var ranking = await a.RankAsync(new { requestId, user = new { id = user, age = 30, gender = "f" }, candidates = items, count = 3 });
        var segment = ranking.GetProperty("segment").GetString();
        var shown = ranking.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("id").GetString()!).ToArray();
        await WaitUntilAsync(async () => await Shared(b).FindRankingAsync(requestId, CancellationToken.None) is not null, "the ranking to reach Redis");

        var found = await Shared(b).FindRankingAsync(requestId, CancellationToken.None);
        Assert.Equal(shown, found!.ItemIds);
        Assert.Equal(segment, found.Segment);
        var response = await b.PostEventsAsync(
            new { eventId = "e-" + requestId, itemId = shown[1], requestId },
            new { eventId = "x-" + requestId, itemId = items.First(i => !shown.Contains(i)), requestId });
        Assert.Equal(1, response.GetProperty("accepted").GetInt32());
        Assert.Contains($"was not in the ranking '{requestId}'", response.GetProperty("rejected")[0].GetProperty("reason").GetString(), StringComparison.Ordinal);
        var stats = JsonDocument.Parse(await b.Client.GetStringAsync($"/v1/items/{shown[1]}/stats")).RootElement;
        Assert.Equal(1, stats.GetProperty("overall").GetProperty("clicks30d").GetDouble());

        // The user's segment too: b serves the user, who sends no attributes now, in the segment a served them in.
        var again = await b.RankAsync(new { user = new { id = user }, candidates = items, count = 3 });
        Assert.Equal(segment, again.GetProperty("segment").GetString());
        Assert.DoesNotContain("unknown_user", Notes(again));
    }

    [Fact]
    public async Task RedisStoppedMidLoad_RankingsAreStillServed_WithANote_AndItIsUsedAgainWhenBack()
    {
        await using var redis = await RedisServer.RequireNewAsync();
        await using var server = await StartAsync(redis);
        string[] items = ["a", "b", "c", "d", "e"];
        var sent = 0;
        async Task<JsonElement> RankUnknownUserAsync()
        {
            var response = await server.RankAsync(new { user = new { id = $"load-{sent++}" }, candidates = items, count = 3 });
            Assert.Equal(3, response.GetProperty("items").GetArrayLength());
            return response;
        }

        for (var i = 0; i < 50; i++)
        {
            Assert.DoesNotContain("shared_state_unavailable", Notes(await RankUnknownUserAsync()));
        }

        await redis.StopAsync();
        var noted = 0;
        for (var i = 0; i < 200; i++)
        {
            // Every request is answered, with its items, while Redis is gone.
            noted += Notes(await RankUnknownUserAsync()).Contains("shared_state_unavailable") ? 1 : 0;
        }

        Assert.True(noted > 0, "no response noted that the shared state was unavailable");
        await redis.StartAsync();
        await WaitUntilAsync(async () => !Notes(await RankUnknownUserAsync()).Contains("shared_state_unavailable"), "the server to use Redis again");
        var requestId = "back-" + Guid.NewGuid().ToString("N");
        await server.RankAsync(new { requestId, user = new { id = "back", age = 40, gender = "m" }, candidates = items, count = 3 });
        await WaitUntilAsync(async () => await Shared(server).FindRankingAsync(requestId, CancellationToken.None) is not null, "a ranking to be published again");
    }

    private static string?[] Notes(JsonElement response) => [.. response.GetProperty("notes").EnumerateArray().Select(n => n.GetString())];

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (SharedStateUnavailableException)
            {
                // not yet
            }

            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), $"waited 30 s for {what}");
            await Task.Delay(20);
        }
    }
}
