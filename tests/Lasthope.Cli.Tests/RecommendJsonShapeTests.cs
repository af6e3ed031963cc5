using System.Net.Http.Json;
using System.Text.Json;
using Lasthope.Client;
using Lasthope.Server.Api;
using Lasthope.Server.Hosting;
using Lasthope.Storage.Sqlite;

namespace Lasthope.Cli.Tests;

/// <summary>
/// One item shape: <c>recommend --json</c> and <c>similar --json</c> write their items as the HTTP API does
/// (<c>/v1/recommend</c>, <c>/v1/similar/{item}</c>): id, rank, score, source, propensity.
/// </summary>
public class RecommendJsonShapeTests
{
    private static string[] Members(Type type) =>
        [.. type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First().GetParameters().Select(p => $"{p.Name}:{p.ParameterType.Name}")];

    [Fact]
    public void TheCliItem_TheServersItem_AndTheClientsItem_DeclareTheSameMembers()
    {
        var cli = Members(typeof(Factors.RankedItem));
        Assert.Equal(["Id:String", "Rank:Int32", "Score:Double", "Source:ItemSource", "Propensity:Double"], cli);
        Assert.Equal(cli, Members(typeof(RankedItemDto)));
        Assert.Equal(cli, Members(typeof(Client.RankedItem)));
    }

    [Fact]
    public async Task RecommendAndSimilarJson_WriteTheItemsTheApiServes_ForTheSameModel()
    {
        var data = CliHarness.TempDirectory();
        var cancellationToken = TestContext.Current.CancellationToken;
        try
        {
            var setup = new ServerSetup { Urls = "http://127.0.0.1:0", DataDirectory = data, ConfigureServices = s => s.AddSqliteEventStore() };
            var random = new Random(5);
            await using (var server = await LasthopeServer.StartAsync(setup, cancellationToken))
            {
                using var client = new HttpClient { BaseAddress = server.BaseAddress };
                var events = new List<InteractionEvent>();
                for (var u = 0; u < 40; u++)
                {
                    for (var i = 0; i < 16; i++)
                    {
                        if (random.NextDouble() < 0.5)
                        {
                            events.Add(new InteractionEvent($"e-{u}-{i}", $"kw-{(u % 2 * 16) + i}") { UserId = $"client-{u}" });
                        }
                    }
                }

                using var posted = await client.PostAsJsonAsync("/v1/events", new EventBatch(events), ClientJson.Default.EventBatch, cancellationToken);
                posted.EnsureSuccessStatusCode();
            }

            var model = Path.Combine(data, "keywords.lhals");
            var (exit, output, error) = await CliHarness.RunAsync(
                "train-als", "--data", data, "--factors", "8", "--iterations", "8", "--regularization", "0.1", "--alpha", "10", "--threads", "1", "--output", model, "--activate", "--surface", "recommend");
            Assert.True(exit == ExitCodes.Ok, error + output);

            await using var restarted = await LasthopeServer.StartAsync(setup, cancellationToken);
            using var http = new HttpClient { BaseAddress = restarted.BaseAddress };
            using var response = await http.PostAsJsonAsync("/v1/recommend", new { user = new { id = "client-7" }, count = 5, budgetMs = 5000 }, cancellationToken);
            var api = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            Assert.Equal("model", api.GetProperty("servedBy").GetString());
            (exit, output, error) = await CliHarness.RunAsync("recommend", "client-7", "--model", model, "--count", "5", "--json");
            Assert.True(exit == ExitCodes.Ok, error);
            AssertSameItems(api.GetProperty("items"), JsonDocument.Parse(output).RootElement.GetProperty("items"));

            using var similarResponse = await http.GetAsync("/v1/similar/kw-3?count=4", cancellationToken);
            var apiSimilar = await similarResponse.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            (exit, output, error) = await CliHarness.RunAsync("similar", "kw-3", "--model", model, "--count", "4", "--json");
            Assert.True(exit == ExitCodes.Ok, error);
            AssertSameItems(apiSimilar.GetProperty("items"), JsonDocument.Parse(output).RootElement.GetProperty("items"));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>Same members in the same order with the same JSON values (the scores digit for digit).</summary>
    private static void AssertSameItems(JsonElement api, JsonElement cli)
    {
        Assert.True(api.GetArrayLength() > 0, api.ToString());
        Assert.Equal(api.GetArrayLength(), cli.GetArrayLength());
        for (var k = 0; k < api.GetArrayLength(); k++)
        {
            Assert.Equal(api[k].EnumerateObject().Select(p => p.Name), cli[k].EnumerateObject().Select(p => p.Name));
            Assert.Equal(api[k].EnumerateObject().Select(p => p.Value.GetRawText()), cli[k].EnumerateObject().Select(p => p.Value.GetRawText()));
        }
    }
}
