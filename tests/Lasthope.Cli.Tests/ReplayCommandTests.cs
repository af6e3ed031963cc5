using System.Text.Json;
using System.Text.Json.Nodes;
using Lasthope.Cli.Demo;
using Lasthope.Storage.Sqlite;

namespace Lasthope.Cli.Tests;

/// <summary>
/// <c>lasthope replay</c> on a simulated log whose shown lists were explored (each list a uniform draw of 8 of the
/// heuristic's top 30, in random order), written out as the JSONL that <c>import</c> reads: replayed in event time,
/// the heuristic, learning from the counters as the log's events happen, orders the shown items better than the
/// logged (random) order and a random order, with paired intervals above 0.
/// </summary>
public sealed class ReplayCommandTests : IAsyncLifetime
{
    private string _data = "";
    private string _log = "";
    private int _rankings;

    public async ValueTask InitializeAsync()
    {
        _data = CliHarness.TempDirectory();
        await new DemoRunner(new DemoOptions
        {
            Days = 4,
            RequestsPerDay = 1_500,
            CandidatesPerRequest = 100,
            Count = 8,
            Surface = "home",
            Concurrency = 1,
            DataDirectory = _data,
            Settings = new Dictionary<string, string?>
            {
                ["Lasthope:Serving:Surfaces:home:Exploration:Fraction"] = "1",
                ["Lasthope:Serving:Surfaces:home:Exploration:Top"] = "30",
            },
        }).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        _log = Path.Combine(_data, "history.jsonl");
        _rankings = await ExportAsync(_data, _log);
    }

    public ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task TheReplayedHeuristic_OrdersTheShownItemsBetterThanTheLoggedAndARandomOrder()
    {
        var (exit, output, error) = await CliHarness.RunAsync("replay", _log, "--json", "-");
        Assert.True(exit == 0, error);
        Assert.Contains("NDCG@10 served - logged", output, StringComparison.Ordinal);
        var result = JsonNode.Parse(output[output.IndexOf("{\n", StringComparison.Ordinal)..])!;

        Assert.Equal(_rankings, (int)result["rankings"]!);
        Assert.Equal(_rankings, (long)result["servedBy"]!["heuristic"]!);
        Assert.Equal(0, (long)result["eventsRejected"]!);
        Assert.InRange((int)result["scoredRankings"]!, _rankings / 10, _rankings);
        foreach (var difference in new[] { "ndcgServedMinusLogged", "ndcgServedMinusRandom" })
        {
            Assert.True((double)result[difference]!["lower"]! > 0, $"{difference}: {result[difference]!.ToJsonString()}");
        }

        var orders = result["orders"]!.AsArray().ToDictionary(o => (string)o!["order"]!, o => o!);
        Assert.True((double)orders["served"]["auc"]!["estimate"]! > (double)orders["random"]["auc"]!["upper"]!, result["orders"]!.ToJsonString());

        // The logged order was random, yet it agrees with the clicks better than another random order: the simulated
        // users examine the top positions more, so the logged clicks favour the logged order (position bias).
        Assert.True((double)orders["logged"]["auc"]!["lower"]! > (double)orders["random"]["auc"]!["upper"]!, result["orders"]!.ToJsonString());
        Assert.InRange((double)orders["random"]["auc"]!["estimate"]!, 0.45, 0.55);
    }

    [Fact]
    public async Task ReplayWithAModel_ServesTheReplayedRequestsByTheModel()
    {
        var model = Path.Combine(_data, "ranker.txt");
        var (exit, output, error) = await CliHarness.RunAsync("train-ranker", "--data", _data, "--surface", "home", "--out", model, "--trees", "30", "--num-leaves", "7", "--threads", "1", "--traffic", "explored");
        Assert.True(exit == 0, error + output);

        (exit, output, error) = await CliHarness.RunAsync("replay", _log, "--policy", model, "--rerank-depth", "8", "--json", "-");
        Assert.True(exit == 0, error);
        var result = JsonNode.Parse(output[output.IndexOf("{\n", StringComparison.Ordinal)..])!;
        Assert.StartsWith("model ranker.txt", (string)result["policy"]!, StringComparison.Ordinal);
        var served = result["servedBy"]!.AsObject().ToDictionary(p => p.Key, p => (long)p.Value!);
        Assert.Equal(_rankings, served.Values.Sum());
        Assert.True(served.GetValueOrDefault("model") > _rankings / 2, result["servedBy"]!.ToJsonString());
        Assert.InRange((double)result["orders"]![0]!["ndcg10"]!["estimate"]!, 0, 1);
    }

    [Fact]
    public async Task Replay_RefusesWhatItCannotRead()
    {
        var (exit, _, error) = await CliHarness.RunAsync("replay", Path.Combine(_data, "missing.jsonl"));
        Assert.Equal(ExitCodes.NotFound, exit);
        Assert.Contains("no such file", error, StringComparison.Ordinal);

        (exit, _, error) = await CliHarness.RunAsync("replay", _log, "--policy", Path.Combine(_data, "no-model.txt"));
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("--policy", error, StringComparison.Ordinal);

        var garbage = Path.Combine(_data, "garbage-model.txt");
        await File.WriteAllTextAsync(garbage, "this is not a model", TestContext.Current.CancellationToken);
        (exit, _, error) = await CliHarness.RunAsync("replay", _log, "--policy", garbage);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("--policy", error, StringComparison.Ordinal);

        var csv = Path.Combine(_data, "log.csv");
        await File.WriteAllTextAsync(csv, "item,click\na,1\n", TestContext.Current.CancellationToken);
        (exit, _, error) = await CliHarness.RunAsync("replay", csv);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("--map", error, StringComparison.Ordinal);

        var empty = Path.Combine(_data, "events-only.jsonl");
        await File.WriteAllTextAsync(empty, "{\"eventId\":\"e1\",\"itemId\":\"a\"}\n", TestContext.Current.CancellationToken);
        (exit, _, error) = await CliHarness.RunAsync("replay", empty);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("no ranking to replay", error, StringComparison.Ordinal);
    }

    /// <summary>Writes the store's rankings and events as import's JSONL; returns the number of rankings.</summary>
    private static async Task<int> ExportAsync(string data, string path)
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var store = await SqliteEventStore.OpenAsync(new SqliteStoreOptions { DataDirectory = data }, cancellationToken);
        await using var writer = new StreamWriter(path);
        var rankings = 0;
        await foreach (var entry in store.ReadLogAsync(DateTimeOffset.MinValue, cancellationToken))
        {
            JsonObject line;
            if (entry.Ranking is { Surface: "home" } ranking)
            {
                rankings++;
                line = new JsonObject
                {
                    ["requestId"] = ranking.RequestId,
                    ["timestamp"] = ranking.Time,
                    ["surface"] = ranking.Surface,
                    ["user"] = new JsonObject { ["id"] = ranking.UserId, ["segment"] = ranking.Segment },
                    ["items"] = new JsonArray([.. ranking.Items.Select(i => (JsonNode)new JsonObject { ["id"] = i.ItemId, ["position"] = i.Position, ["propensity"] = i.Propensity })]),
                };
            }
            else if (entry.Event is { } e)
            {
                line = new JsonObject { ["eventId"] = e.EventId, ["itemId"] = e.ItemId, ["type"] = e.Type, ["userId"] = e.UserId, ["requestId"] = e.RequestId, ["timestamp"] = e.Time };
            }
            else
            {
                continue;
            }

            await writer.WriteLineAsync(line.ToJsonString(JsonSerializerOptions.Web));
        }

        return rankings;
    }
}
