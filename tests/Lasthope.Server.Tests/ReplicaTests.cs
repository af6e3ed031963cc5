using System.Diagnostics;
using System.Text.Json;
using Lasthope.Storage.Postgres;
using Lasthope.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Lasthope.Server.Tests;

/// <summary>Two servers on one PostgreSQL database (a real server the test starts): they converge.</summary>
public sealed class ReplicaTests
{
    private static async Task<Dictionary<string, string?>> PostgresSettingsAsync() => new()
    {
        ["Lasthope:Storage:Backend"] = "postgres",
        ["Lasthope:Storage:Postgres:ConnectionString"] = await (await PostgresServer.RequireAsync()).CreateDatabaseAsync(),
        ["Lasthope:State:FollowIntervalMs"] = "20",
    };

    private static Task<LoopbackServer> StartReplicaAsync(Dictionary<string, string?> settings, FakeTimeProvider clock)
        => LoopbackServer.StartAsync(settings, clock: clock, services: s => s.AddPostgresEventStore());

    [Fact]
    public async Task AClickPostedToOneReplica_OnARankingAnotherServed_IsAttributed_AndBothCountTheSame()
    {
        var settings = await PostgresSettingsAsync();
        var clock = new FakeTimeProvider(LoopbackServer.DefaultNow);
        await using var a = await StartReplicaAsync(settings, clock);
        await using var b = await StartReplicaAsync(settings, clock);
        string[] items = ["a", "b", "c", "d"];
        for (var i = 0; i < 20; i++)
        {
            var server = i % 2 == 0 ? a : b;
            var other = i % 2 == 0 ? b : a;
            var ranking = await server.RankAsync(new { requestId = $"r{i}", user = new { id = $"u{i}", age = 30, gender = "f" }, candidates = items, count = 3 });
            var second = ranking.GetProperty("items")[1].GetProperty("id").GetString();
            await server.FlushAsync();
            await WaitUntilAsync(() => Task.FromResult(other.State.AppliedThrough >= server.State.AppliedThrough), "the other replica to follow the ranking");

            // Posted to the replica that did not serve the ranking: it knows the ranking and the item's position in it.
            var shown = ranking.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("id").GetString()).ToHashSet();
            var notShown = items.First(item => !shown.Contains(item));
            var response = await other.PostEventsAsync(new { eventId = $"e{i}", itemId = second, requestId = $"r{i}" }, new { eventId = $"x{i}", itemId = notShown, requestId = $"r{i}" });
            Assert.Equal(1, response.GetProperty("accepted").GetInt32());
            Assert.Contains($"was not in the ranking 'r{i}'", response.GetProperty("rejected")[0].GetProperty("reason").GetString(), StringComparison.Ordinal);
        }

        foreach (var item in items)
        {
            await WaitUntilAsync(async () => await StatsAsync(a, item) == await StatsAsync(b, item), $"both replicas to count item {item} alike");
        }

        var stats = JsonDocument.Parse(await StatsAsync(a, items[0])).RootElement;
        Assert.True(stats.GetProperty("known").GetBoolean());
        var clicks = 0.0;
        foreach (var item in items)
        {
            clicks += JsonDocument.Parse(await StatsAsync(b, item)).RootElement.GetProperty("overall").GetProperty("clicks30d").GetDouble();
        }

        Assert.Equal(20, clicks);

        // Status says how far each has counted the log: the same entry, some of them followed from the other.
        await WaitUntilAsync(async () => (await LogPositionAsync(a)).GetProperty("appliedThrough").GetInt64() == (await LogPositionAsync(b)).GetProperty("appliedThrough").GetInt64(), "both replicas to report the same log position");
        foreach (var replica in new[] { a, b })
        {
            var position = await LogPositionAsync(replica);
            Assert.True(position.GetProperty("appliedThrough").GetInt64() >= 40, position.ToString()); // 20 rankings and 20 clicks at least
            Assert.True(position.GetProperty("followed").GetInt64() > 0, position.ToString());
            Assert.Equal("none", position.GetProperty("sharedState").GetString());
        }
    }

    private static async Task<JsonElement> LogPositionAsync(LoopbackServer server)
        => JsonDocument.Parse(await server.Client.GetStringAsync("/v1/status")).RootElement.GetProperty("log");

    private static Task<string> StatsAsync(LoopbackServer server, string item) => server.Client.GetStringAsync($"/v1/items/{item}/stats");

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), $"waited 30 s for {what}");
            await Task.Delay(20);
        }
    }
}
