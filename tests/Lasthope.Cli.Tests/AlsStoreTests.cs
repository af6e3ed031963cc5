using System.Net.Http.Json;
using System.Text.Json;
using Lasthope.Client;
using Lasthope.Server.Hosting;
using Lasthope.Storage.Sqlite;

namespace Lasthope.Cli.Tests;

/// <summary>The recommender trained from the store's own events, registered, then served by the server.</summary>
public class AlsStoreTests
{
    [Fact]
    public async Task TrainAls_FromTheStoresEvents_ActivatesAModelTheServerServes()
    {
        var data = CliHarness.TempDirectory();
        try
        {
            var random = new Random(11);
            await using (var server = await LasthopeServer.StartAsync(new ServerSetup { Urls = "http://127.0.0.1:0", DataDirectory = data, ConfigureServices = s => s.AddSqliteEventStore() }, TestContext.Current.CancellationToken))
            {
                using var client = new HttpClient { BaseAddress = server.BaseAddress };
                var events = new List<InteractionEvent>();
                for (var u = 0; u < 60; u++)
                {
                    var offset = u < 30 ? 0 : 20;
                    for (var i = 0; i < 20; i++)
                    {
                        if (random.NextDouble() < 0.5)
                        {
                            events.Add(new InteractionEvent($"e-{u}-{i}", $"kw-{offset + i}") { UserId = $"client-{u}", Type = i % 7 == 0 ? "conversion" : null });
                        }
                    }
                }

                events.Add(new InteractionEvent("new-1", "kw-21") { UserId = "newcomer" });
                events.Add(new InteractionEvent("new-2", "kw-24") { UserId = "newcomer" });
                using var posted = await client.PostAsJsonAsync("/v1/events", new EventBatch(events), ClientJson.Default.EventBatch, TestContext.Current.CancellationToken);
                posted.EnsureSuccessStatusCode();
            }

            var model = Path.Combine(data, "keywords.lhals");
            var (exit, output, error) = await CliHarness.RunAsync(
                "train-als", "--data", data, "--factors", "8", "--iterations", "10", "--regularization", "0.1", "--threads", "1", "--output", model, "--activate", "--surface", "recommend");
            Assert.True(exit == ExitCodes.Ok, error + output);
            Assert.Contains("(active)", error, StringComparison.Ordinal);

            (exit, output, error) = await CliHarness.RunAsync("recommend", "newcomer", "--model", model, "--data", data, "--count", "3");
            Assert.True(exit == ExitCodes.Ok, error);
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(3, lines.Length);
            Assert.DoesNotContain(lines, l => l.StartsWith("kw-21\t", StringComparison.Ordinal) || l.StartsWith("kw-24\t", StringComparison.Ordinal));

            await using var restarted = await LasthopeServer.StartAsync(new ServerSetup { Urls = "http://127.0.0.1:0", DataDirectory = data, ConfigureServices = s => s.AddSqliteEventStore() }, TestContext.Current.CancellationToken);
            using var http = new HttpClient { BaseAddress = restarted.BaseAddress };
            using var response = await http.PostAsJsonAsync("/v1/recommend", new { user = new { id = "client-40" }, count = 5, budgetMs = 3000 }, TestContext.Current.CancellationToken);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
            // (A generous budget above: this checks the trained model serves, not deadlines on a busy test machine.)
            Assert.Equal("model", body.GetProperty("servedBy").GetString());
            // client-40 is of the second taste group (kw-20..39): most of its top 5 come from there (the model is tiny
            // and trained on 30 users per group, so one stray neighbour is allowed).
            var own = body.GetProperty("items").EnumerateArray().Count(i => int.Parse(i.GetProperty("id").GetString()![3..], System.Globalization.CultureInfo.InvariantCulture) >= 20);
            Assert.True(own >= 4, $"only {own} of 5 from the user's own group: {body}");
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }
}
