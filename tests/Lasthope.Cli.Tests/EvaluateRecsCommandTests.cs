using System.Text.Json;
using Lasthope.Cli.Commands;
using Lasthope.Evaluation;

namespace Lasthope.Cli.Tests;

public sealed class EvaluateRecsCommandTests : IDisposable
{
    private readonly string _dir = CliHarness.TempDirectory();

    public EvaluateRecsCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] Als = ["--factors", "8", "--regularization", "5", "--alpha", "10", "--iterations", "10", "--resamples", "200"];

    [Fact]
    public async Task Holdout_BeatsPopularityOnAPlantedStructure_AndWritesJsonTsvAndCharts()
    {
        var csv = AlsCommandsTests.PlantedCsv(_dir, users: 150);
        var json = Path.Combine(_dir, "r.json");
        var png = Path.Combine(_dir, "r.png");
        var (exit, output, err) = await CliHarness.RunAsync(["evaluate-recs", "--input", csv, "--k", "1,5,10", "--json", json, "--chart", png, .. Als]);
        Assert.True(exit == 0, err);

        using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken));
        var root = doc.RootElement;
        Assert.Equal("holdout", root.GetProperty("protocol").GetString());
        Assert.Equal("k", root.GetProperty("precisionDenominator").GetString());
        var metrics = root.GetProperty("metrics").EnumerateArray().ToArray();
        Assert.Equal(5 * 3, metrics.Length);
        var ndcg = metrics.Single(m => m.GetProperty("metric").GetString() == "ndcg" && m.GetProperty("k").GetInt32() == 10);
        Assert.True(ndcg.GetProperty("alsAbovePopular").GetBoolean());
        Assert.True(ndcg.GetProperty("difference").GetProperty("lower").GetDouble() > 0);
        var als = ndcg.GetProperty("als");
        Assert.InRange(als.GetProperty("estimate").GetDouble(), als.GetProperty("lower").GetDouble(), als.GetProperty("upper").GetDouble());

        var tsv = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("metric\tk\tals\t", tsv[0], StringComparison.Ordinal);
        Assert.Equal(16, tsv.Length);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], (await File.ReadAllBytesAsync(png, TestContext.Current.CancellationToken))[..4]);
    }

    [Fact]
    public async Task Chart_CanBeSvg()
    {
        var svg = Path.Combine(_dir, "r.svg");
        var (exit, _, err) = await CliHarness.RunAsync(["evaluate-recs", "--input", AlsCommandsTests.PlantedCsv(_dir), "--k", "5,10", "--chart", svg, .. Als]);
        Assert.True(exit == 0, err);
        var text = await File.ReadAllTextAsync(svg, TestContext.Current.CancellationToken);
        Assert.StartsWith("<svg", text, StringComparison.Ordinal);
        Assert.Contains("ndcg@k", text, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.BadInput, (await CliHarness.RunAsync(["evaluate-recs", "--input", AlsCommandsTests.PlantedCsv(_dir), "--chart", Path.Combine(_dir, "r.gif"), .. Als])).ExitCode);
    }

    [Fact]
    public async Task Search_ChoosesRegularizationAndAlpha_AsTrainAlsDoes_AndReportsThem()
    {
        var json = Path.Combine(_dir, "s.json");
        var (exit, _, err) = await CliHarness.RunAsync(
            "evaluate-recs", "--input", AlsCommandsTests.PlantedCsv(_dir), "--k", "10", "--resamples", "100", "--json", json, "--search", "--factors", "8", "--iterations", "6");
        Assert.True(exit == 0, err);
        using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken));
        var search = doc.RootElement.GetProperty("search");
        var trials = search.GetProperty("trials").EnumerateArray().ToArray();
        Assert.True(trials.Length > 10);
        var best = search.GetProperty("best");
        var model = doc.RootElement.GetProperty("model");
        Assert.Equal(best.GetProperty("regularization").GetDouble(), model.GetProperty("regularization").GetDouble());
        Assert.Equal(best.GetProperty("alpha").GetDouble(), model.GetProperty("alpha").GetDouble());
        Assert.Equal(best.GetProperty("score").GetDouble(), trials.Where(t => t.GetProperty("iterations").GetInt32() == 6).Max(t => t.GetProperty("score").GetDouble()));
        Assert.False(search.GetProperty("budgetExhausted").GetBoolean());
        Assert.Contains("chosen", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KnownUsers_FromATrainAndATestFile_ScoresEachKnownUserOnTheirNewItems()
    {
        var train = AlsCommandsTests.PlantedCsv(_dir);
        var trained = File.ReadAllLines(train).Skip(1).Select(l => l.Split(',')).Select(f => (User: f[0], Item: f[1])).ToHashSet();

        // The later interactions of c0..c29: every keyword of the user's cluster they had not used, one they had, and
        // a stranger who never trained.
        var lines = new List<string> { "user,keyword" };
        var expectedUsers = 0;
        for (var u = 0; u < 30; u++)
        {
            var fresh = Enumerable.Range(0, 36).Where(i => i % 3 == u % 3 && !trained.Contains(($"c{u}", $"k{i}"))).ToArray();
            lines.AddRange(fresh.Select(i => $"c{u},k{i}"));
            expectedUsers += fresh.Length > 0 ? 1 : 0;
            var old = trained.FirstOrDefault(p => p.User == $"c{u}");
            if (old.User is not null)
            {
                lines.Add($"{old.User},{old.Item}");
            }
        }

        lines.Add("stranger,k1");
        var test = Path.Combine(_dir, "later.csv");
        await File.WriteAllLinesAsync(test, lines, TestContext.Current.CancellationToken);
        var json = Path.Combine(_dir, "k.json");
        var (exit, _, err) = await CliHarness.RunAsync(["evaluate-recs", "--train", train, "--test", test, "--k", "5", "--json", json, .. Als]);
        Assert.True(exit == 0, err);
        using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken));
        var root = doc.RootElement;
        Assert.Equal("known-users", root.GetProperty("protocol").GetString());
        Assert.Equal(expectedUsers, root.GetProperty("evaluationUsers").GetInt32());
        Assert.Equal(1, root.GetProperty("split").GetProperty("unknownTestUsers").GetInt32());
        Assert.True(root.GetProperty("split").GetProperty("seenTestPairs").GetInt32() >= 25);

        // Seen items are excluded, so ALS's top 5 are the user's cluster's unused keywords: precision is high.
        var precision = root.GetProperty("metrics").EnumerateArray().Single(m => m.GetProperty("metric").GetString() == "precision");
        Assert.True(precision.GetProperty("als").GetProperty("estimate").GetDouble() > 0.9, precision.ToString());
        Assert.True(precision.GetProperty("alsAbovePopular").GetBoolean());
    }

    [Fact]
    public async Task LastK_NeedsTimestamps_AndUsesThemWhenPresent()
    {
        var plain = AlsCommandsTests.PlantedCsv(_dir);
        var (exit, _, err) = await CliHarness.RunAsync(["evaluate-recs", "--input", plain, "--protocol", "LastK", .. Als]);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("timestamp", err, StringComparison.Ordinal);

        var timed = AlsCommandsTests.PlantedCsv(_dir, timestamps: true);
        var json = Path.Combine(_dir, "t.json");
        (exit, _, err) = await CliHarness.RunAsync(["evaluate-recs", "--input", timed, "--protocol", "LastK", "--last-k", "2", "--k", "5", "--json", json, .. Als]);
        Assert.True(exit == 0, err);
        using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken));
        Assert.Equal("last-k", doc.RootElement.GetProperty("protocol").GetString());
        Assert.Equal(2, doc.RootElement.GetProperty("split").GetProperty("lastK").GetInt32());
    }

    [Fact]
    public async Task FoldIn_FromOneFile_HoldsOutWholeUsers_AndOffersTheMinDenominator()
    {
        var (exit, output, err) = await CliHarness.RunAsync(
            ["evaluate-recs", "--input", AlsCommandsTests.PlantedCsv(_dir, users: 300), "--protocol", "FoldIn", "--test-user-fraction", "0.2", "--k", "5", "--precision", "MinKRelevant", "--json", "-", .. Als]);
        Assert.True(exit == 0, err);
        var json = output[output.IndexOf('{', StringComparison.Ordinal)..];
        using var doc = JsonDocument.Parse(json);
        Assert.Equal("fold-in", doc.RootElement.GetProperty("protocol").GetString());
        Assert.Equal("min(k,|test|)", doc.RootElement.GetProperty("precisionDenominator").GetString());
        Assert.InRange(doc.RootElement.GetProperty("evaluationUsers").GetInt32(), 30, 90);
    }

    [Fact]
    public async Task FoldIn_FromTwoFiles_NamespacesTheNewUsers()
    {
        var train = AlsCommandsTests.PlantedCsv(_dir);
        var test = Path.Combine(_dir, "new-users.csv");

        // The new clients reuse training ids but are other people: each uses cluster (u + 1) % 3, not u % 3.
        var lines = new List<string> { "user,keyword" };
        for (var u = 0; u < 60; u++)
        {
            for (var i = (u + 1) % 3; i < 36; i += 6)
            {
                lines.Add($"c{u},k{i}");
            }
        }

        await File.WriteAllLinesAsync(test, lines, TestContext.Current.CancellationToken);
        var json = Path.Combine(_dir, "f.json");
        var (exit, _, err) = await CliHarness.RunAsync(["evaluate-recs", "--train", train, "--test-users", test, "--fold-in-fraction", "0.5", "--k", "5", "--json", json, .. Als]);
        Assert.True(exit == 0, err);
        using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken));
        Assert.Equal(60, doc.RootElement.GetProperty("evaluationUsers").GetInt32());
        var recall = doc.RootElement.GetProperty("metrics").EnumerateArray().Single(m => m.GetProperty("metric").GetString() == "recall");

        // Had the ids been merged, the old clusters would mislead ALS; folded in apart, each user's own cluster wins.
        Assert.True(recall.GetProperty("alsAbovePopular").GetBoolean());
    }

    [Fact]
    public void TheTablesVerdict_ReadsThePairedInterval_NotTheOverlapOfTheSeparateOnes()
    {
        // The trial's P@1: the separate intervals overlap, the paired difference [0.0159, 0.0796] lies above zero.
        var overlapping = new MetricComparison(
            RecsMetrics.Precision, 1, new Interval(0.312, 0.281, 0.344, 0.95), new Interval(0.264, 0.236, 0.293, 0.95), new Interval(0.048, 0.0159, 0.0796, 0.95));
        Assert.Equal("[green]above[/]", EvaluateRecsOutput.Verdict(overlapping));

        // Separate intervals apart, paired interval across zero: not shown.
        var apart = new MetricComparison(
            RecsMetrics.Precision, 1, new Interval(0.55, 0.50, 0.60, 0.95), new Interval(0.35, 0.30, 0.40, 0.95), new Interval(0.20, -0.01, 0.30, 0.95));
        Assert.Equal("[yellow]not shown[/]", EvaluateRecsOutput.Verdict(apart));
    }

    [Fact]
    public async Task KnownUsers_WhoseTestFileHasNoTrainingUser_ExitsBadInput_NamingTheOption()
    {
        var train = AlsCommandsTests.PlantedCsv(_dir);
        var test = Path.Combine(_dir, "strangers.csv");
        await File.WriteAllLinesAsync(test, ["user,keyword", "stranger,k1", "other,k2"], TestContext.Current.CancellationToken);
        var (exit, _, err) = await CliHarness.RunAsync(["evaluate-recs", "--train", train, "--test", test, .. Als]);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("--test", err, StringComparison.Ordinal);
        Assert.Contains("2 users absent from training", err, StringComparison.Ordinal);

        var malformed = Path.Combine(_dir, "malformed.csv");
        await File.WriteAllLinesAsync(malformed, ["user,keyword,weight", "c0,k1,heavy"], TestContext.Current.CancellationToken);
        (exit, _, err) = await CliHarness.RunAsync(["evaluate-recs", "--train", train, "--test", malformed, .. Als]);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains($"--test {malformed}", err, StringComparison.Ordinal);

        (exit, _, err) = await CliHarness.RunAsync(["evaluate-recs", "--train", train, "--test", test, "--test-users", test, .. Als]);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("--test", err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--train", "x.csv")]
    [InlineData("--k", "0,5")]
    public async Task BadArguments_ExitWithBadInput(string option, string value)
    {
        var csv = AlsCommandsTests.PlantedCsv(_dir);
        var (exit, _, _) = await CliHarness.RunAsync("evaluate-recs", "--input", csv, option, value);
        Assert.Equal(ExitCodes.BadInput, exit);
    }
}
