using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Lasthope.Server.Tests;

public class OperationsTests
{
    [Fact]
    public async Task Metrics_ArePrometheusText_WithRequestsLatencyAndEvents()
    {
        await using var server = await LoopbackServer.StartAsync();
        await server.RankAsync(new { surface = "metrics-test", user = new { id = "u" }, candidates = new[] { "a" } });
        await server.PostEventsAsync(new { eventId = "e1", itemId = "a" });
        using var bad = await server.Client.PostAsJsonAsync("/v1/events", new { events = new[] { new { eventId = "e2", itemId = "a", type = "nope" } } });

        // The exporter caches a scrape for a short while; poll until our requests appear.
        string text = "";
        for (var attempt = 0; attempt < 50 && !text.Contains("surface=\"metrics-test\"", StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(100);
            text = await server.Client.GetStringAsync("/metrics");
        }

        Assert.Contains("lasthope_rank_requests_total{", text, StringComparison.Ordinal);
        Assert.Contains("surface=\"metrics-test\"", text, StringComparison.Ordinal);
        Assert.Contains("served_by=\"heuristic\"", text, StringComparison.Ordinal);
        Assert.Contains("lasthope_rank_duration_seconds_bucket", text, StringComparison.Ordinal);
        Assert.Contains("lasthope_rank_stage_duration_seconds_bucket", text, StringComparison.Ordinal);
        Assert.Contains("lasthope_events_accepted_total", text, StringComparison.Ordinal);
        Assert.Contains("lasthope_events_rejected_total", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_LiveAndReady_AreHealthyOnAWorkingStore()
    {
        await using var server = await LoopbackServer.StartAsync();
        using var live = await server.Client.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        var ready = await server.Client.GetFromJsonAsync<JsonElement>("/health/ready");
        Assert.Equal("Healthy", ready.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Health_Ready_IsDegraded_WhileTheStoreFails()
    {
        await using var server = await LoopbackServer.StartAsync(store: new UnreachableStore());
        await server.RankAsync(new { user = new { id = "u" }, candidates = new[] { "a" } });
        var status = "";
        for (var attempt = 0; attempt < 100 && status != "Degraded"; attempt++)
        {
            await Task.Delay(50);
            status = (await server.Client.GetFromJsonAsync<JsonElement>("/health/ready")).GetProperty("status").GetString();
        }

        Assert.Equal("Degraded", status);
    }

    [Fact]
    public async Task ItemStats_ReportCountsCtrTrendAndScore_PerSegmentAndOverall()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?> { ["Lasthope:Counters:PriorStrength"] = "10" });
        for (var i = 0; i < 10; i++)
        {
            await server.RankAsync(new { requestId = $"r{i}", user = new { id = $"u{i}", age = 30, gender = "m" }, candidates = new[] { "a", "b" }, count = 2 });
        }

        await server.PostEventsAsync(new { eventId = "e1", itemId = "a", requestId = "r0" }, new { eventId = "e2", itemId = "a", requestId = "r1" });
        var stats = await server.Client.GetFromJsonAsync<JsonElement>("/v1/items/a/stats");
        Assert.True(stats.GetProperty("known").GetBoolean());
        var overall = stats.GetProperty("overall");
        Assert.Equal(10, overall.GetProperty("impressions7d").GetDouble());
        Assert.Equal(2, overall.GetProperty("clicks30d").GetDouble());
        var segment = stats.GetProperty("segments").EnumerateArray().Single(s => s.GetProperty("segment").GetString() == "m:25-34");
        Assert.Equal(10, segment.GetProperty("impressions7d").GetDouble());
        Assert.Equal("segment", segment.GetProperty("level").GetString());
        Assert.True(segment.GetProperty("heuristicScore").GetDouble() > 0);
        Assert.Equal(10, stats.GetProperty("segments").GetArrayLength()); // the 10 grid segments, all listed

        var unknown = await server.Client.GetFromJsonAsync<JsonElement>("/v1/items/zzz/stats");
        Assert.False(unknown.GetProperty("known").GetBoolean());
    }

    [Fact]
    public async Task Restart_RebuildsTheCountersFromTheLog_AndChangesNoRanking()
    {
        var directory = LoopbackServer.NewDataDirectory();
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(LoopbackServer.DefaultNow.AddDays(-3));
        string[] items = ["a", "b", "c", "d", "e"];
        var before = new Dictionary<string, string>();
        var firstServer = await LoopbackServer.StartAsync(dataDirectory: directory, clock: clock);
        try
        {
            var random = new Random(7);
            for (var i = 0; i < 120; i++)
            {
                clock.Advance(TimeSpan.FromMinutes(37));
                var ranking = await firstServer.RankAsync(new { requestId = $"r{i}", user = new { id = $"u{i % 17}", age = 18 + (i % 50), gender = i % 3 == 0 ? "f" : "m" }, candidates = items, count = 3 });
                var top = ranking.GetProperty("items")[random.Next(3)].GetProperty("id").GetString();
                if (random.NextDouble() < 0.4)
                {
                    await firstServer.PostEventsAsync(new { eventId = $"e{i}", itemId = top, requestId = $"r{i}", type = i % 5 == 0 ? "conversion" : "click" });
                }
            }

            await firstServer.FlushAsync();
            foreach (var item in items)
            {
                before[item] = await firstServer.Client.GetStringAsync($"/v1/items/{item}/stats");
            }
        }
        finally
        {
            await firstServer.StopKeepingDataAsync();
        }

        await using var restarted = await LoopbackServer.StartAsync(dataDirectory: directory, clock: clock);
        foreach (var item in items)
        {
            Assert.Equal(before[item], await restarted.Client.GetStringAsync($"/v1/items/{item}/stats"));
        }

        var order = await restarted.RankAsync(new { user = new { id = "u1" }, candidates = items, count = 5 });
        Assert.Equal(5, order.GetProperty("items").GetArrayLength());
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task Status_ReportsWhatTheStoreHolds()
    {
        await using var server = await LoopbackServer.StartAsync();
        await server.RankAsync(new { user = new { id = "u", segment = "f:0-24" }, candidates = new[] { "a", "b" }, count = 2 });
        await server.PostEventsAsync(new { eventId = "e1", itemId = "a" });
        await server.FlushAsync();
        var status = await server.Client.GetFromJsonAsync<JsonElement>("/v1/status");
        Assert.Equal("sqlite", status.GetProperty("store").GetString());
        Assert.Equal(1, status.GetProperty("rankings").GetInt64());
        Assert.Equal(2, status.GetProperty("impressions").GetInt64());
        Assert.Equal(1, status.GetProperty("events").GetInt64());
        Assert.Equal(1, status.GetProperty("users").GetInt64());
    }
}
