using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lasthope.Core.Storage;
using Lasthope.Server.Hosting;
using Lasthope.Server.State;
using Lasthope.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Lasthope.Server.Tests;

/// <summary>Rank requests at their own event time, on a server whose clock follows it (<c>serve --event-clock</c>).</summary>
public sealed class EventClockTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 6, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task TheClockMovesToEachLaterTimestamp_NeverBack_AndEachRankingIsLoggedAtItsOwn()
    {
        var data = LoopbackServer.NewDataDirectory();
        var clock = new EventClock(T0);
        try
        {
            await using var server = await LasthopeServer.StartAsync(new ServerSetup
            {
                Urls = "http://127.0.0.1:0",
                DataDirectory = data,
                Time = clock,
                Settings = new Dictionary<string, string?> { ["Lasthope:Serving:BudgetMs"] = "3000", ["Lasthope:Serving:Surfaces:home"] = "" },
                ConfigureServices = s => s.AddSqliteEventStore(),
            });
            using var http = new HttpClient { BaseAddress = server.BaseAddress };
            async Task<HttpResponseMessage> Rank(string id, DateTimeOffset at) =>
                await http.PostAsJsonAsync("/v1/rank", new { requestId = id, surface = "home", user = new { id = "u" }, candidates = new[] { "a", "b" }, timestamp = at });

            using (var later = await Rank("r-1", T0.AddHours(5)))
            {
                Assert.Equal(HttpStatusCode.OK, later.StatusCode);
            }

            Assert.Equal(T0.AddHours(5), clock.GetUtcNow());
            using (var earlier = await Rank("r-2", T0.AddHours(2)))
            {
                Assert.Equal(HttpStatusCode.OK, earlier.StatusCode);
            }

            Assert.Equal(T0.AddHours(5), clock.GetUtcNow());

            // A jump beyond Events:MaxPastAge is refused, and leaves the clock where it was.
            using (var far = await Rank("r-3", T0.AddDays(45)))
            {
                Assert.Equal(HttpStatusCode.BadRequest, far.StatusCode);
                Assert.True((await far.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("timestamp", out _));
            }

            Assert.Equal(T0.AddHours(5), clock.GetUtcNow());
            await server.Services.GetRequiredService<ImpressionLog>().FlushAsync();
            var store = server.Services.GetRequiredService<IEventStore>();
            Assert.Equal(T0.AddHours(5), (await store.FindRankingAsync("r-1"))!.Time);
            Assert.Equal(T0.AddHours(2), (await store.FindRankingAsync("r-2"))!.Time);
            Assert.Null(await store.FindRankingAsync("r-3"));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task AServerOnItsOwnClock_RefusesATimestamp_NamingTheField()
    {
        await using var server = await LoopbackServer.StartAsync();
        using var response = await server.Client.PostAsJsonAsync("/v1/rank", new { surface = "home", user = new { id = "u" }, candidates = new[] { "a" }, timestamp = LoopbackServer.DefaultNow });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Contains("--event-clock", errors.GetProperty("timestamp")[0].GetString(), StringComparison.Ordinal);
    }
}
