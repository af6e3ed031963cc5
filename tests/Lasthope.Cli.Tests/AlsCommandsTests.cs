using System.Text.Json;
using Lasthope.Factors;

namespace Lasthope.Cli.Tests;

public sealed class AlsCommandsTests : IDisposable
{
    private readonly string _dir = CliHarness.TempDirectory();

    public AlsCommandsTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// Three clusters of 12 keywords; client c{u} uses half of its cluster's keywords (cluster u % 3), with weight 1
    /// or 2. Writes the CSV with a header and returns its path.
    /// </summary>
    internal static string PlantedCsv(string dir, int users = 90, bool timestamps = false)
    {
        var random = new Random(7);
        var lines = new List<string> { timestamps ? "user,keyword,weight,timestamp" : "user,keyword,weight" };
        for (var u = 0; u < users; u++)
        {
            var t = 0;
            for (var i = 0; i < 36; i++)
            {
                if (i % 3 == u % 3 && random.NextDouble() < 0.5)
                {
                    lines.Add(timestamps ? $"c{u},k{i},{1 + random.Next(2)},{1000 + (t++ * 60)}" : $"c{u},k{i},{1 + random.Next(2)}");
                }
            }
        }

        var path = Path.Combine(dir, "interactions.csv");
        File.WriteAllLines(path, lines);
        return path;
    }

    private async Task<string> TrainAsync()
    {
        var model = Path.Combine(_dir, "model.lhals");
        var (exit, _, err) = await CliHarness.RunAsync("train-als", "--input", PlantedCsv(_dir), "-o", model, "--factors", "8", "--regularization", "5", "--alpha", "10", "--iterations", "10");
        Assert.True(exit == 0, err);
        return model;
    }

    [Fact]
    public async Task TrainAls_WritesAModel_AndReportsTheLossOfEveryIteration()
    {
        var model = Path.Combine(_dir, "m.lhals");
        var (exit, output, err) = await CliHarness.RunAsync("train-als", "--input", PlantedCsv(_dir), "-o", model, "--factors", "8", "--iterations", "4", "--json");
        Assert.Equal(0, exit);
        var loaded = AlsModel.Load(model);
        Assert.Equal(90, loaded.Users.Count);
        Assert.Equal(8, loaded.Factors);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(loaded.Version, json.RootElement.GetProperty("version").GetString());
        Assert.Equal(4, json.RootElement.GetProperty("iterations").GetInt32());
        Assert.True(json.RootElement.GetProperty("finalLoss").GetDouble() > 0);
        Assert.Contains("iteration", err, StringComparison.Ordinal);
        Assert.Contains("loss", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Recommend_GivesAKnownUserUnseenItemsOfItsCluster()
    {
        var model = await TrainAsync();
        var (exit, output, _) = await CliHarness.RunAsync("recommend", "c0", "--model", model, "--count", "3");
        Assert.Equal(0, exit);
        var rows = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToArray();
        Assert.Equal(3, rows.Length);
        var seen = File.ReadAllLines(Path.Combine(_dir, "interactions.csv")).Where(l => l.StartsWith("c0,", StringComparison.Ordinal)).Select(l => l.Split(',')[1]).ToHashSet();
        Assert.All(rows, r =>
        {
            Assert.Equal("als", r[2]);
            Assert.Equal(0, int.Parse(r[0][1..], System.Globalization.CultureInfo.InvariantCulture) % 3);
            Assert.DoesNotContain(r[0], seen);
        });
    }

    [Fact]
    public async Task Recommend_NeverReturnsExcludedItems_AndKeepsSeenOnesOnRequest()
    {
        var model = await TrainAsync();
        var (_, all, _) = await CliHarness.RunAsync("recommend", "c0", "--model", model, "--count", "36", "--no-filter-seen");
        Assert.Equal(36, all.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var first = all.Split('\t')[0];
        var (exit, output, _) = await CliHarness.RunAsync("recommend", "c0", "--model", model, "--count", "36", "--no-filter-seen", "--exclude", first, "--exclude", "k35");
        Assert.Equal(0, exit);
        var items = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')[0]).ToArray();
        Assert.Equal(34, items.Length);
        Assert.DoesNotContain(first, items);
        Assert.DoesNotContain("k35", items);
    }

    [Fact]
    public async Task Recommend_FoldsInANewUser_FromListedInteractions()
    {
        var model = await TrainAsync();
        var (exit, output, err) = await CliHarness.RunAsync("recommend", "newcomer", "--model", model, "--count", "3", "--item", "k1", "--item", "k4=2", "--item", "unknown-keyword", "--json");
        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(output);
        Assert.True(json.RootElement.GetProperty("foldedIn").GetBoolean());
        var items = json.RootElement.GetProperty("items").EnumerateArray().ToArray();
        Assert.Equal(3, items.Length);
        Assert.Equal([1, 2, 3], items.Select(i => i.GetProperty("rank").GetInt32()));
        Assert.All(items, i =>
        {
            Assert.Equal("als", i.GetProperty("source").GetString());
            var id = i.GetProperty("id").GetString()!;
            Assert.Equal(1, int.Parse(id[1..], System.Globalization.CultureInfo.InvariantCulture) % 3);
            Assert.NotEqual("k1", id);
            Assert.NotEqual("k4", id);
        });
        Assert.Contains("folded in", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrainAls_WithoutRegularizationAndAlpha_ChoosesThem_PrintsThem_AndStoresThemInTheModel()
    {
        var model = Path.Combine(_dir, "tuned.lhals");
        var (exit, output, err) = await CliHarness.RunAsync("train-als", "--input", PlantedCsv(_dir), "-o", model, "--factors", "8", "--iterations", "6", "--json");
        Assert.True(exit == 0, err);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal("search", root.GetProperty("chosenBy").GetString());
        Assert.True(root.GetProperty("search").GetProperty("trials").GetInt32() > 10);
        var loaded = AlsModel.Load(model);
        Assert.Equal(loaded.Training.Options.Regularization, root.GetProperty("regularization").GetSingle());
        Assert.Equal(loaded.Training.Options.Alpha, root.GetProperty("alpha").GetSingle());
        Assert.NotEqual(new AlsOptions().Regularization, loaded.Training.Options.Regularization);
        Assert.Contains("chosen", err, StringComparison.Ordinal);
        Assert.Contains(loaded.Training.Options.Regularization.ToString("G4", System.Globalization.CultureInfo.InvariantCulture), err, StringComparison.Ordinal);

        // The same data and seed choose the same values.
        var again = Path.Combine(_dir, "again.lhals");
        (exit, _, err) = await CliHarness.RunAsync("train-als", "--input", PlantedCsv(_dir), "-o", again, "--factors", "8", "--iterations", "6");
        Assert.True(exit == 0, err);
        Assert.Equal(loaded.Fingerprint, AlsModel.Load(again).Fingerprint);
    }

    [Fact]
    public async Task Recommend_ForAListOfUsers_WritesEveryUsersListAsCsv_AsTheSingleUserPathServesIt()
    {
        var model = await TrainAsync();
        var users = Path.Combine(_dir, "users.csv");
        await File.WriteAllLinesAsync(users, ["user,item,weight", "c0", "newcomer,k1,1", "newcomer,k4,2", "stranger", "c3"], TestContext.Current.CancellationToken);
        var csv = Path.Combine(_dir, "recs.csv");
        var (exit, _, err) = await CliHarness.RunAsync("recommend", "--model", model, "--users", users, "--output", csv, "--count", "4");
        Assert.True(exit == 0, err);
        var rows = (await File.ReadAllLinesAsync(csv, TestContext.Current.CancellationToken)).Select(l => l.Split(',')).ToArray();
        Assert.Equal(["user", "item", "rank", "score", "source"], rows[0]);
        Assert.Equal(1 + (4 * 4), rows.Length);
        Assert.Equal(["c0", "newcomer", "stranger", "c3"], rows.Skip(1).Select(r => r[0]).Distinct());
        Assert.All(rows.Skip(1).GroupBy(r => r[0]), g => Assert.Equal(["1", "2", "3", "4"], g.Select(r => r[2])));
        Assert.Equal(["als", "als", "popular", "als"], rows.Skip(1).GroupBy(r => r[0]).Select(g => g.First()[4]));

        // Each user's rows are what recommend USER serves.
        var (_, single, _) = await CliHarness.RunAsync("recommend", "newcomer", "--model", model, "--count", "4", "--item", "k1", "--item", "k4=2");
        Assert.Equal(
            single.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')[0]),
            rows.Where(r => r[0] == "newcomer").Select(r => r[1]));
        Assert.Contains("1 folded in", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Recommend_ForAListOfUsers_ReportsTheUsersItKnewNothingAbout()
    {
        var model = await TrainAsync();
        var users = Path.Combine(_dir, "users.csv");
        await File.WriteAllLinesAsync(users, ["c0", "stranger", "ghost,unknown-item", "c1"], TestContext.Current.CancellationToken);
        var (exit, output, err) = await CliHarness.RunAsync("recommend", "--model", model, "--users", users, "--count", "3");
        Assert.True(exit == 0, err);
        Assert.Equal(1 + (4 * 3), output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var words = string.Join(' ', err.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries)); // the console wraps at 80 columns
        Assert.Contains("2 known to the model, 0 folded in, 2 unknown", words, StringComparison.Ordinal);
        Assert.Contains("stranger, ghost", words, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--users", "c0", "", "give a USER or --users FILE, not both")]
    [InlineData("--users", "--item", "k1", "--item is for one USER")]
    [InlineData("--users", "--json", "", "--json is for one USER")]
    [InlineData("--users", "--count", "0", "--count")]
    [InlineData("", "--output", "x.csv", "--output is for --users")]
    [InlineData("--users", "--data", "somewhere", "--data is for one USER")]
    public async Task Recommend_ForAListOfUsers_ExitsBadInput_NamingTheOption(string batch, string option, string value, string message)
    {
        var model = await TrainAsync();
        var users = Path.Combine(_dir, "users.csv");
        await File.WriteAllLinesAsync(users, ["c0"], TestContext.Current.CancellationToken);
        string[] args = ["recommend", "--model", model, .. batch.Length > 0 ? new[] { "--users", users } : ["c0"], option, .. value.Length > 0 ? new[] { value } : []];
        var (exit, _, err) = await CliHarness.RunAsync(args);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains(message, err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Recommend_ForAListOfUsers_ExitsBadInput_ForAnEmptyListOrABadWeight()
    {
        var model = await TrainAsync();
        var users = Path.Combine(_dir, "users.csv");
        await File.WriteAllLinesAsync(users, ["user", ""], TestContext.Current.CancellationToken);
        var (exit, _, err) = await CliHarness.RunAsync("recommend", "--model", model, "--users", users);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains($"--users {users} lists no users", err, StringComparison.Ordinal);

        await File.WriteAllLinesAsync(users, ["newcomer,k1,heavy"], TestContext.Current.CancellationToken);
        (exit, _, err) = await CliHarness.RunAsync("recommend", "--model", model, "--users", users);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains($"--users {users}: Line 1", err, StringComparison.Ordinal);

        (exit, _, err) = await CliHarness.RunAsync("recommend", "--model", model, "--users", users + ".missing");
        Assert.Equal(ExitCodes.NotFound, exit);
        Assert.Contains("--users", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Recommend_ServesPopularItems_WhenNothingIsKnownAboutTheUser()
    {
        var model = await TrainAsync();
        var (exit, output, _) = await CliHarness.RunAsync("recommend", "stranger", "--model", model, "--count", "5");
        Assert.Equal(0, exit);
        var rows = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToArray();
        Assert.Equal(5, rows.Length);
        Assert.All(rows, r => Assert.Equal("popular", r[2]));
        var loaded = AlsModel.Load(model);
        var expected = PopularityModel.FromCounts(loaded.Items, loaded.ItemUserCounts, loaded.Users.Count).TopN(null, 5).Select(r => r.ItemId);
        Assert.Equal(expected, rows.Select(r => r[0]));
    }

    [Fact]
    public async Task Similar_ListsItemsOfTheSameCluster_AndNotTheItemItself()
    {
        var model = await TrainAsync();
        var (exit, output, _) = await CliHarness.RunAsync("similar", "k5", "--model", model, "--count", "4");
        Assert.Equal(0, exit);
        var items = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')[0]).ToArray();
        Assert.Equal(4, items.Length);
        Assert.DoesNotContain("k5", items);
        Assert.All(items, id => Assert.Equal(2, int.Parse(id[1..], System.Globalization.CultureInfo.InvariantCulture) % 3));
    }

    [Fact]
    public async Task Similar_ExitsNotFound_ForAnUnknownItem()
    {
        var model = await TrainAsync();
        var (exit, _, err) = await CliHarness.RunAsync("similar", "no-such-keyword", "--model", model);
        Assert.Equal(ExitCodes.NotFound, exit);
        Assert.Contains("not in the model", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Commands_ExitNotFound_ForAMissingModel_AndBadInput_ForACorruptOne()
    {
        var (missing, _, _) = await CliHarness.RunAsync("recommend", "c0", "--model", Path.Combine(_dir, "absent.lhals"));
        Assert.Equal(ExitCodes.NotFound, missing);
        var corrupt = Path.Combine(_dir, "corrupt.lhals");
        await File.WriteAllTextAsync(corrupt, new string('x', 200), TestContext.Current.CancellationToken);
        var (exit, _, err) = await CliHarness.RunAsync("similar", "k1", "--model", corrupt);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("magic", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrainAls_ExitsBadInput_ForAMalformedCsvOrInvalidOptions()
    {
        var csv = Path.Combine(_dir, "bad.csv");
        await File.WriteAllLinesAsync(csv, ["user,item,weight", "a,b,1", "a,c,heavy"], TestContext.Current.CancellationToken);
        var (exit, _, err) = await CliHarness.RunAsync("train-als", "--input", csv, "-o", Path.Combine(_dir, "x.lhals"));
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("Line 3", err, StringComparison.Ordinal);
        (exit, _, err) = await CliHarness.RunAsync("train-als", "--input", PlantedCsv(_dir), "--factors", "0");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("Factors", err, StringComparison.Ordinal);
        (exit, _, _) = await CliHarness.RunAsync("train-als", "--input", Path.Combine(_dir, "absent.csv"));
        Assert.Equal(ExitCodes.NotFound, exit);
    }
}
