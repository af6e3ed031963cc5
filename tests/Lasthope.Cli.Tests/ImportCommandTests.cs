using System.Globalization;
using Lasthope.Core.Storage;
using Lasthope.Storage.Sqlite;
using Lasthope.Testing;

namespace Lasthope.Cli.Tests;

public class ImportCommandTests
{
    [Fact]
    public async Task Import_IntoPostgres_WhenTheConfigurationSaysSo_AndThePositionBiasToolReadsItBack()
    {
        var file = TestData.Require("open-bandit/random/men/men.csv");
        var connection = await (await PostgresServer.RequireAsync()).CreateDatabaseAsync();
        var data = CliHarness.TempDirectory();
        var config = Path.Combine(data, "postgres.json");
        Directory.CreateDirectory(data);
        try
        {
            File.WriteAllText(config, System.Text.Json.JsonSerializer.Serialize(new { Lasthope = new { Storage = new { Backend = "postgres", Postgres = new { ConnectionString = connection } } } }));
            var (exit, output, error) = await CliHarness.RunAsync("import", file, "--data", data, "--config", config, "--preset", "open-bandit");
            Assert.True(exit == ExitCodes.Ok, error);
            var expectedClicks = File.ReadLines(file).Skip(1).Count(line => line.Split(',')[4] == "1");
            Assert.Contains($"rankings: 10000, impressions: 10000, events: {expectedClicks}", output, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(data, "lasthope.db")), "the import wrote to the embedded store, not PostgreSQL");

            await using (var store = Lasthope.Storage.Postgres.PostgresEventStore.Open(new Lasthope.Storage.Postgres.PostgresStoreOptions { ConnectionString = connection }))
            {
                var counts = await store.CountAsync(TestContext.Current.CancellationToken);
                Assert.Equal(10_000, counts.Impressions);
                Assert.Equal(expectedClicks, counts.Events);
            }

            (exit, output, error) = await CliHarness.RunAsync("position-bias", "--data", data, "--config", config, "--max-position", "3");
            Assert.True(exit == ExitCodes.Ok, error);
            Assert.Contains("position", output, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task Import_LoadsOpenBanditRandomMen_WithEveryImpressionAndClick()
    {
        var file = TestData.Require("open-bandit/random/men/men.csv");
        var data = CliHarness.TempDirectory();
        try
        {
            var (exit, output, error) = await CliHarness.RunAsync("import", file, "--data", data, "--preset", "open-bandit");
            Assert.True(exit == ExitCodes.Ok, error);

            var expectedClicks = File.ReadLines(file).Skip(1).Count(line => line.Split(',')[4] == "1");
            Assert.Contains("lines: 10000, accepted: 10000, rejected: 0", output, StringComparison.Ordinal);
            Assert.Contains($"rankings: 10000, impressions: 10000, events: {expectedClicks}", output, StringComparison.Ordinal);

            // The log is from 2019: a server started now would count none of it, and the import says so.
            Assert.Contains("warning: 10,000 of 10,000 imported impressions are older than the counters' long window (30 days)", error, StringComparison.Ordinal);
            Assert.Contains("--clock-start 2019-11-30", error, StringComparison.Ordinal);

            await using var store = await SqliteEventStore.OpenAsync(new SqliteStoreOptions { DataDirectory = data });
            var counts = await store.CountAsync(TestContext.Current.CancellationToken);
            Assert.Equal(10_000, counts.Impressions);
            Assert.Equal(expectedClicks, counts.Events);
            var first = await store.FindRankingAsync("men:2", TestContext.Current.CancellationToken);
            Assert.NotNull(first);
            Assert.Equal("14", first.Items[0].ItemId);
            Assert.Equal(3, first.Items[0].Position);
            Assert.Equal(DateTimeOffset.Parse("2019-11-24 00:03:13.442536+00:00", CultureInfo.InvariantCulture), first.Time);
            Assert.Equal("user_feature_0=cef3390ed299c09874189c387777674a", first.Segment);

            // Importing again is idempotent: the same request and event ids count once.
            (exit, output, _) = await CliHarness.RunAsync("import", file, "--data", data, "--preset", "open-bandit");
            Assert.Equal(ExitCodes.Ok, exit);
            Assert.Contains($"events: 0, duplicate events: {expectedClicks}", output, StringComparison.Ordinal);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task PositionBias_OnImportedOpenBanditRandomLog_MatchesTheCurveComputedFromTheFile()
    {
        var file = TestData.Require("open-bandit/random/men/men.csv");
        var data = CliHarness.TempDirectory();
        try
        {
            Assert.Equal(ExitCodes.Ok, (await CliHarness.RunAsync("import", file, "--data", data, "--preset", "open-bandit")).ExitCode);
            var (exit, output, error) = await CliHarness.RunAsync("position-bias", "--data", data, "--max-position", "3", "--save");
            Assert.True(exit == ExitCodes.Ok, error);

            var rows = File.ReadLines(file).Skip(1).Select(l => l.Split(',')).ToList();
            double Ctr(int p) => rows.Count(r => r[3] == $"{p}" && r[4] == "1") / (double)rows.Count(r => r[3] == $"{p}");
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Skip(1).ToList();
            Assert.Equal(3, lines.Count);
            for (var p = 1; p <= 3; p++)
            {
                var cells = lines[p - 1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var direct = double.Parse(cells[4], CultureInfo.InvariantCulture);
                var estimated = double.Parse(cells[5], CultureInfo.InvariantCulture);
                Assert.Equal(Ctr(p) / Ctr(1), direct, 4);
                Assert.InRange(estimated, direct * 0.9, direct * 1.1);
            }

            await using var store = await SqliteEventStore.OpenAsync(new SqliteStoreOptions { DataDirectory = data });
            Assert.NotNull(await store.GetSettingAsync("position-curve", TestContext.Current.CancellationToken));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task ImportItems_OfCsvAndJsonLines_StoresTheValidLines_AndNamesWhatIsWrongWithTheRest()
    {
        var data = CliHarness.TempDirectory();
        Directory.CreateDirectory(data);
        try
        {
            var csv = Path.Combine(data, "items.csv");
            await File.WriteAllLinesAsync(csv, ["id,category,price,length", "a,sports,9.5,120", "b,,1.25,", "c,news,cheap,3", ",x,1,1", "a,sports,10,121"], TestContext.Current.CancellationToken);
            var (exit, output, error) = await CliHarness.RunAsync("import", csv, "--items", "--data", data);
            Assert.True(exit == ExitCodes.Ok, error);
            Assert.Contains("lines: 5, items stored: 2, rejected: 2", output, StringComparison.Ordinal);
            Assert.Contains("rejected line 4: attributes.price: 'cheap' is not a number", output, StringComparison.Ordinal);
            Assert.Contains("rejected line 5: id: must not be empty", output, StringComparison.Ordinal);

            var jsonl = Path.Combine(data, "items.jsonl");
            await File.WriteAllLinesAsync(jsonl, ["""{"id":"d","category":"news","attributes":{"price":3}}""", """{"id":"e","attributes":{"bad name":1}}""", "not json"], TestContext.Current.CancellationToken);
            (exit, output, error) = await CliHarness.RunAsync("import", jsonl, "--items", "--data", data);
            Assert.True(exit == ExitCodes.Ok, error);
            Assert.Contains("lines: 3, items stored: 1, rejected: 2", output, StringComparison.Ordinal);

            await using var store = await Lasthope.Storage.Sqlite.SqliteEventStore.OpenAsync(new Lasthope.Storage.Sqlite.SqliteStoreOptions { DataDirectory = data }, TestContext.Current.CancellationToken);
            var items = new Dictionary<string, Lasthope.Core.Items.ItemAttributes>();
            await foreach (var item in ((Lasthope.Core.Storage.IItemStore)store).ReadItemsAsync(TestContext.Current.CancellationToken))
            {
                items[item.ItemId] = item;
            }

            Assert.Equal(["a", "b", "d"], items.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(new Dictionary<string, double> { ["price"] = 10, ["length"] = 121 }, items["a"].Numbers); // the last line of an item wins
            Assert.Equal((null, 1.25), (items["b"].Category, items["b"].Numbers["price"]));
            Assert.False(items["b"].Numbers.ContainsKey("length"));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task Import_OfJsonLines_ReportsAcceptedAndRejectedLinesWithReasons()
    {
        var data = CliHarness.TempDirectory();
        var file = Path.Combine(Path.GetTempPath(), $"lasthope-{Guid.NewGuid():N}.jsonl");
        await File.WriteAllLinesAsync(file,
        [
            """{"requestId": "r1", "timestamp": "2026-01-01T10:00:00Z", "user": {"id": "u1", "age": 30, "gender": "f"}, "items": ["a", "b", "c"]}""",
            """{"eventId": "e1", "itemId": "b", "requestId": "r1", "timestamp": "2026-01-01T10:00:05Z"}""",
            """{"eventId": "e2", "itemId": "b", "type": "wink"}""",
            """this is not json""",
            """{"requestId": "r2", "items": []}""",
            """{"eventId": "e3", "itemId": "a", "userId": "u1", "type": "conversion", "timestamp": "2026-01-01T11:00:00Z"}""",
        ], TestContext.Current.CancellationToken);
        try
        {
            var (exit, output, _) = await CliHarness.RunAsync("import", file, "--data", data);
            Assert.Equal(ExitCodes.Ok, exit);
            Assert.Contains("lines: 6, accepted: 3, rejected: 3", output, StringComparison.Ordinal);
            Assert.Contains("rejected line 3: type: unknown event type 'wink'", output, StringComparison.Ordinal);
            Assert.Contains("rejected line 4: invalid JSON", output, StringComparison.Ordinal);
            Assert.Contains("rejected line 5: a ranking needs at least one item", output, StringComparison.Ordinal);

            await using var store = await SqliteEventStore.OpenAsync(new SqliteStoreOptions { DataDirectory = data });
            var events = new List<Lasthope.Core.Events.InteractionEvent>();
            await foreach (var entry in store.ReadLogAsync(DateTimeOffset.MinValue, TestContext.Current.CancellationToken))
            {
                if (entry.Event is { } e)
                {
                    events.Add(e);
                }
            }

            Assert.Equal(2, events.Count);
            Assert.Equal((2, "f:25-34"), (events[0].Position!.Value, events[0].Segment));
            Assert.Equal((3.0, "f:25-34"), (events[1].Weight, events[1].Segment));
        }
        finally
        {
            File.Delete(file);
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task Import_WithoutAMapping_ForCsv_IsABadInputError()
    {
        var file = Path.Combine(Path.GetTempPath(), $"lasthope-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(file, "item,pos\na,1\n", TestContext.Current.CancellationToken);
        try
        {
            var (exit, _, error) = await CliHarness.RunAsync("import", file, "--data", CliHarness.TempDirectory());
            Assert.Equal(ExitCodes.BadInput, exit);
            Assert.Contains("--map", error, StringComparison.Ordinal);

            (exit, _, error) = await CliHarness.RunAsync("import", file, "--data", CliHarness.TempDirectory(), "--map", "item=item_id");
            Assert.Equal(ExitCodes.BadInput, exit);
            Assert.Contains("no column 'item_id'", error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Import_OfAMissingFile_IsNotFound()
    {
        var (exit, _, error) = await CliHarness.RunAsync("import", "/no/such/file.csv");
        Assert.Equal(ExitCodes.NotFound, exit);
        Assert.Contains("no such file", error, StringComparison.Ordinal);
    }
}
