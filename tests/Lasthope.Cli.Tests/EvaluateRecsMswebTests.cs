using System.Text.Json;
using Lasthope.Testing;

namespace Lasthope.Cli.Tests;

/// <summary>
/// The bar of the keyword recommender on real data (UCI msweb): ALS beats popularity at k = 10 on precision, recall,
/// NDCG and MAP by a margin the 95% bootstrap intervals show, in a per-user holdout and in fold-in of unseen users.
/// The hyperparameters are the ones evaluate-recs --search chose on a validation split of the training file.
/// </summary>
public sealed class EvaluateRecsMswebTests : IDisposable
{
    private static readonly string[] Chosen = ["--factors", "16", "--regularization", "1000", "--alpha", "100", "--iterations", "15", "--k", "10", "--resamples", "1000", "--seed", "42"];

    private readonly string _dir = CliHarness.TempDirectory();

    public EvaluateRecsMswebTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Als_BeatsPopularity_InAPerUserHoldout_OfTheTrainingUsers()
    {
        var train = TestData.Require("msweb/interactions_train.csv");
        var metrics = await RunAsync(["--input", train, "--holdout-fraction", "0.2"]);
        AssertAlsAbove(metrics);
    }

    [Fact]
    public async Task Als_BeatsPopularity_ForUnseenUsersFoldedIn()
    {
        var train = TestData.Require("msweb/interactions_train.csv");
        var test = TestData.Require("msweb/interactions_test.csv");
        var metrics = await RunAsync(["--train", train, "--test-users", test, "--fold-in-fraction", "0.5"]);
        AssertAlsAbove(metrics);
    }

    [Fact]
    public async Task Als_BeatsPopularity_ForKnownUsersOfAGivenSplit_TheirTrainingItemsExcluded()
    {
        // A split made outside the protocol (every fifth line of each user's, in file order, to the test part), as
        // someone else's train/test files would be; users whose every line went to the test part are skipped.
        var lines = await File.ReadAllLinesAsync(TestData.Require("msweb/interactions_train.csv"), TestContext.Current.CancellationToken);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var train = new List<string> { lines[0] };
        var test = new List<string> { lines[0] };
        foreach (var line in lines.Skip(1))
        {
            var user = line[..line.IndexOf(',', StringComparison.Ordinal)];
            var n = seen[user] = seen.GetValueOrDefault(user) + 1;
            (n % 5 == 0 ? test : train).Add(line);
        }

        var trainPath = Path.Combine(_dir, "known-train.csv");
        var testPath = Path.Combine(_dir, "known-test.csv");
        await File.WriteAllLinesAsync(trainPath, train, TestContext.Current.CancellationToken);
        await File.WriteAllLinesAsync(testPath, test, TestContext.Current.CancellationToken);
        var metrics = await RunAsync(["--train", trainPath, "--test", testPath]);
        AssertAlsAbove(metrics);
    }

    private async Task<JsonElement[]> RunAsync(string[] protocol)
    {
        var json = Path.Combine(_dir, "msweb.json");
        var (exit, _, err) = await CliHarness.RunAsync(["evaluate-recs", .. protocol, "--json", json, .. Chosen]);
        Assert.True(exit == 0, err);
        using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken));
        return doc.RootElement.GetProperty("metrics").EnumerateArray().Select(m => m.Clone()).ToArray();
    }

    private static void AssertAlsAbove(JsonElement[] metrics)
    {
        // Coverage intervals hold their estimates on real lists too (the with-replacement bootstrap put them below).
        foreach (var c in metrics.Where(m => m.GetProperty("metric").GetString() == "coverage"))
        {
            foreach (var side in new[] { "als", "popular", "difference" })
            {
                var i = c.GetProperty(side);
                Assert.InRange(i.GetProperty("estimate").GetDouble(), i.GetProperty("lower").GetDouble(), i.GetProperty("upper").GetDouble());
            }
        }

        foreach (var name in new[] { "precision", "recall", "ndcg", "map" })
        {
            var m = metrics.Single(x => x.GetProperty("metric").GetString() == name && x.GetProperty("k").GetInt32() == 10);
            var als = m.GetProperty("als");
            var popular = m.GetProperty("popular");
            Assert.True(
                m.GetProperty("alsAbovePopular").GetBoolean(),
                $"{name}@10: ALS {als.GetProperty("estimate").GetDouble():F4} [{als.GetProperty("lower").GetDouble():F4}, {als.GetProperty("upper").GetDouble():F4}] vs popular {popular.GetProperty("estimate").GetDouble():F4} [{popular.GetProperty("lower").GetDouble():F4}, {popular.GetProperty("upper").GetDouble():F4}]");
        }
    }
}
