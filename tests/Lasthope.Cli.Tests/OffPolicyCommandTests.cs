using Lasthope.Cli.Demo;
using Lasthope.Cli.Retraining;
using Lasthope.Server.Hosting;
using Lasthope.Server.Models;
using Microsoft.Extensions.DependencyInjection;
using Lasthope.Storage.Sqlite;
using Lasthope.Testing;
using Lasthope.Training;

namespace Lasthope.Cli.Tests;

/// <summary>
/// Five simulated days on surface "home" exploring 30% of its requests (3 of the top 20 shown; the features of the
/// unexplored top 20 logged with each explored request), made once for the tests of a class.
/// </summary>
public sealed class ExploredLogFixture : IAsyncLifetime
{
    public string Data { get; } = CliHarness.TempDirectory();

    public async ValueTask InitializeAsync()
    {
        await new DemoRunner(new DemoOptions
        {
            Days = 5,
            RequestsPerDay = 2_000,
            CandidatesPerRequest = 100,
            Count = 3,
            Surface = "home",
            Concurrency = 1,
            DataDirectory = Data,
            Settings = new Dictionary<string, string?>
            {
                ["Lasthope:Serving:Surfaces:home:Exploration:Fraction"] = "0.3",
                ["Lasthope:Serving:Surfaces:home:Exploration:Top"] = "20",
            },
        }).RunAsync(cancellationToken: TestContext.Current.CancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(Data, recursive: true);
        return ValueTask.CompletedTask;
    }

    /// <summary>A copy of the history for a test that writes to it (models, rankings), so that no test sees another's writes.</summary>
    public string CopyOfData()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var copy = CliHarness.TempDirectory();
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(Data))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        return copy;
    }

    public static void Delete(string copy)
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(copy, recursive: true);
    }
}

/// <summary>
/// Off-policy estimates validated in the simulator: the explored requests are on-policy samples of the uniform
/// policy and the rest of the unexplored one, so each policy's CTR, obtained by running it on its share of the same
/// days, must lie in the interval estimated from the whole log's propensities.
/// </summary>
public sealed class OffPolicyCommandTests(ExploredLogFixture log) : IClassFixture<ExploredLogFixture>
{
    private const string DeepFirstModel = """
        tree
        version=v3
        num_class=1
        num_tree_per_iteration=1
        label_index=0
        max_feature_idx=0
        objective=lambdarank
        feature_names=heuristic_rank
        feature_infos=[1:1000]

        Tree=0
        num_leaves=2
        num_cat=0
        split_feature=0
        split_gain=1
        threshold=17.5
        decision_type=0
        left_child=-1
        right_child=-2
        leaf_value=0 1
        shrinkage=1


        end of trees

        """;

    private readonly string _data = log.Data;

    [Theory]
    [InlineData(TargetPolicy.Uniform)]
    [InlineData(TargetPolicy.Unexplored)]
    public async Task TheEstimatedCtr_CoversThePolicysOnPolicyCtr(TargetPolicy policy)
    {
        await using var store = await SqliteEventStore.OpenAsync(new SqliteStoreOptions { DataDirectory = _data }, TestContext.Current.CancellationToken);
        var report = await new LoggedPolicyEstimates(store).EstimateAsync(new PolicyEstimateRequest { Surface = "home", Policy = policy }, TestContext.Current.CancellationToken);

        var onPolicy = policy == TargetPolicy.Uniform ? report.ExploredCtr!.Value : report.UnexploredCtr!.Value;
        Assert.InRange(report.ExploredImpressions, 3 * 2_000 * 5 * 0.25, 3 * 2_000 * 5 * 0.35);
        foreach (var estimate in report.Estimate.All)
        {
            Assert.True(
                estimate.Value.Lower <= onPolicy && onPolicy <= estimate.Value.Upper,
                $"{policy} {estimate.Estimator}: {estimate.Value} misses the on-policy CTR {onPolicy} (ESS {report.Estimate.EffectiveSampleSize:F0})");
        }

        // The two policies differ, or the check above would not tell them apart.
        Assert.True(Math.Abs(report.ExploredCtr!.Value - report.UnexploredCtr!.Value) > 0.005, $"explored {report.ExploredCtr}, unexplored {report.UnexploredCtr}");
    }

    [Fact]
    public async Task Ope_PrintsTheEstimates_AndRefusesWhatItCannotAnswer()
    {
        var (exit, output, error) = await CliHarness.RunAsync("ope", "--data", _data, "--surface", "home", "--policy", "uniform", "--json", "-");
        Assert.True(exit == 0, error);
        Assert.Contains("snips", output, StringComparison.Ordinal);
        Assert.Contains("effective sample size", output, StringComparison.Ordinal);
        Assert.Contains("\"effectiveSampleSize\"", output, StringComparison.Ordinal);

        (exit, output, error) = await CliHarness.RunAsync("ope", "--data", _data, "--surface", "home", "--policy", "heuristic", "--against", "unexplored", "--json", "-");
        Assert.True(exit == 0, error);
        Assert.Contains("\"baseline\": \"unexplored\"", output, StringComparison.Ordinal);
        Assert.Contains("\"doublyRobust\"", output, StringComparison.Ordinal);

        (exit, _, error) = await CliHarness.RunAsync("ope", "--data", _data, "--surface", "nowhere", "--policy", "uniform");
        Assert.Equal(ExitCodes.NotFound, exit);
        Assert.Contains("no rankings of surface 'nowhere'", error, StringComparison.Ordinal);

        (exit, _, error) = await CliHarness.RunAsync("ope", "--data", _data, "--surface", "home", "--policy", "uniform", "--pool", "1");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("--pool", error, StringComparison.Ordinal);

        (exit, _, error) = await CliHarness.RunAsync("ope", "--data", _data, "--surface", "home", "--policy", "model");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("--model", error, StringComparison.Ordinal);

        (exit, _, error) = await CliHarness.RunAsync("ope", "--data", _data, "--surface", "home", "--policy", "model", "--model", "no-such-version");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("no-such-version", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReRankingEstimates_OfTheServedHeuristic_CoverItsOnPolicyCtr_AndTellAWorseOrderApart()
    {
        var cancel = TestContext.Current.CancellationToken;
        await using var store = await SqliteEventStore.OpenAsync(new SqliteStoreOptions { DataDirectory = _data }, cancel);
        var onPolicy = (await new LoggedPolicyEstimates(store).EstimateAsync(new PolicyEstimateRequest { Surface = "home", Policy = TargetPolicy.Unexplored }, cancel)).UnexploredCtr!.Value;
        var estimates = new RerankPolicyEstimates(store);

        // The heuristic served, so its re-ranking of the logged top is the unexplored list: the same policy twice.
        var same = await estimates.CompareAsync(new RerankEstimateRequest { Surface = "home", Candidate = RerankPolicy.Heuristic, Baseline = RerankPolicy.Unexplored }, cancel);
        Assert.Equal(20, same.Depth);
        Assert.Equal(0, same.RankingsSkipped);
        Assert.InRange(same.Comparison.Candidate.Decisions, 3 * 2_000 * 5 * 0.25, 3 * 2_000 * 5 * 0.35);
        foreach (var (estimate, difference) in same.Comparison.Candidate.All.Zip(same.Comparison.Difference))
        {
            Assert.True(estimate.Value.Lower <= onPolicy && onPolicy <= estimate.Value.Upper, $"{estimate.Estimator}: {estimate.Value} misses the heuristic's on-policy CTR {onPolicy}");
            Assert.Equal(0, difference.Value.Estimate);
            Assert.Equal(0, difference.Value.Upper - difference.Value.Lower);
        }

        // The bottom of the top 20 shown first: estimated worse, the paired interval below 0.
        var worse = await estimates.CompareAsync(new RerankEstimateRequest { Surface = "home", Candidate = new Reversed(), Baseline = RerankPolicy.Heuristic }, cancel);
        Assert.True(worse.Comparison.DoublyRobustDifference.Value.Upper < 0, $"reversed - heuristic {worse.Comparison.DoublyRobustDifference.Value}");
    }

    [Fact]
    public async Task Retrain_ActivatesOnlyWhenTheCandidateIsEstimatedBetter_StoresTheDecision_AndRollsBack()
    {
        var data = log.CopyOfData();
        try
        {
            var cancel = TestContext.Current.CancellationToken;
            string[] retrain = ["retrain", "--data", data, "--surface", "home", "--trees", "50", "--num-leaves", "7", "--min-data-in-leaf", "50", "--valid-fraction", "0.5", "--threads", "1", "--json", "-"];

            // Against a deliberately bad active model (the heuristic's ranks 18 to 20 of the top 20 first), a candidate wins.
            var bad = Path.Combine(data, "bad.txt");
            await File.WriteAllTextAsync(bad, DeepFirstModel, cancel);
            var (exit, _, error) = await CliHarness.RunAsync("model", "add", bad, "--surface", "home", "--version", "bad", "--activate", "--data", data);
            Assert.True(exit == 0, error);
            string output;
            (exit, output, error) = await CliHarness.RunAsync(retrain);
            Assert.True(exit == 0, error);
            using (var json = Json(output))
            {
                var root = json.RootElement;
                Assert.Equal("bad", root.GetProperty("against").GetString());
                Assert.Equal("bad", root.GetProperty("previousActive").GetString());
                Assert.True(DrLower(root) > 0, output);
                Assert.Equal("activated", root.GetProperty("decision").GetString());
                Assert.Contains("Rollback: lasthope model activate bad", output, StringComparison.Ordinal);
                var candidate = root.GetProperty("candidate").GetString()!;

                await using var store = await SqliteEventStore.OpenAsync(new SqliteStoreOptions { DataDirectory = data }, cancel);
                Assert.Equal(candidate, (await store.GetActiveModelsAsync(cancel))["home"]);
                var metrics = (await store.FindModelAsync(candidate, cancel))!.Metrics!;
                Assert.Contains("\"decision\":\"activated\"", metrics, StringComparison.Ordinal);
                Assert.Contains("\"against\":\"bad\"", metrics, StringComparison.Ordinal);
            }

            // The rollback is one command.
            (exit, _, error) = await CliHarness.RunAsync("model", "activate", "bad", "--data", data);
            Assert.True(exit == 0, error);
            await using (var store = await SqliteEventStore.OpenAsync(new SqliteStoreOptions { DataDirectory = data }, cancel))
            {
                Assert.Equal("bad", (await store.GetActiveModelsAsync(cancel))["home"]);
            }

            // Against the heuristic, the decision follows the interval, whichever way it falls.
            (exit, _, error) = await CliHarness.RunAsync("model", "deactivate", "home", "--data", data);
            Assert.True(exit == 0, error);
            (exit, output, error) = await CliHarness.RunAsync(retrain);
            Assert.True(exit == 0, error);
            using (var json = Json(output))
            {
                Assert.Equal("heuristic", json.RootElement.GetProperty("against").GetString());
                Assert.Equal(DrLower(json.RootElement) > 0 ? "activated" : "kept", json.RootElement.GetProperty("decision").GetString());
            }

            (exit, _, error) = await CliHarness.RunAsync("retrain", "--data", data, "--surface", "home", "--valid-fraction", "2");
            Assert.Equal(ExitCodes.BadInput, exit);
            Assert.Contains("--valid-fraction", error, StringComparison.Ordinal);
            (exit, _, error) = await CliHarness.RunAsync("retrain", "--data", data, "--surface", "nowhere");
            Assert.Equal(ExitCodes.NotFound, exit);
            Assert.Contains("nowhere", error, StringComparison.Ordinal);
        }
        finally
        {
            ExploredLogFixture.Delete(data);
        }
    }

    [Fact]
    public async Task TheServersSchedule_RetrainsInAChildProcess_AndSwapsTheWinnerInLive()
    {
        var data = log.CopyOfData();
        try
        {
            var cancel = TestContext.Current.CancellationToken;
            var bad = Path.Combine(data, "bad-live.txt");
            await File.WriteAllTextAsync(bad, DeepFirstModel, cancel);
            var (exit, _, error) = await CliHarness.RunAsync("model", "add", bad, "--surface", "home", "--version", "bad-live", "--activate", "--data", data);
            Assert.True(exit == 0, error);

            await using var server = await LasthopeServer.StartAsync(
                new ServerSetup
                {
                    DataDirectory = data,
                    Urls = "http://127.0.0.1:0",
                    Settings = new Dictionary<string, string?>
                    {
                        ["Lasthope:Serving:Surfaces:home:RerankDepth"] = "20",
                        ["Lasthope:Retraining:Surfaces:0"] = "home",
                        ["Lasthope:Retraining:Trees"] = "50",
                        ["Lasthope:Retraining:Leaves"] = "7",
                        ["Lasthope:Retraining:MinDataInLeaf"] = "50",
                        ["Lasthope:Retraining:ValidFraction"] = "0.5",
                    },
                    ConfigureServices = services =>
                    {
                        services.AddSqliteEventStore();
                        RetrainSchedule.Register(services, configFile: null);
                    },
                },
                cancel);
            var registry = server.Services.GetRequiredService<ModelRegistry>();
            Assert.Equal("bad-live", registry.Active("home")?.Version);

            var decisions = await server.Services.GetRequiredService<RetrainSchedule>().RunOnceAsync(cancel);
            var decision = Assert.Single(decisions);
            Assert.NotNull(decision);
            Assert.Equal(("activated", "bad-live"), (decision.Decision, decision.Against));

            // Swapped in without a restart: the next ranking is served by the candidate.
            Assert.Equal(decision.Candidate, registry.Active("home")?.Version);
            using var http = new HttpClient { BaseAddress = server.BaseAddress };
            using var response = await http.PostAsync(
                "/v1/rank",
                new StringContent("""{"surface":"home","user":{"id":"u-1"},"candidates":["a","b","c","d"],"count":2}""", System.Text.Encoding.UTF8, "application/json"),
                cancel);
            using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancel));
            Assert.Equal(decision.Candidate, body.RootElement.GetProperty("modelVersion").GetString());
        }
        finally
        {
            ExploredLogFixture.Delete(data);
        }
    }

    [Fact]
    public void AScheduleOnAnUnknownSurface_StopsTheStart_NamingTheKey()
    {
        var data = CliHarness.TempDirectory();
        try
        {
            var error = Assert.ThrowsAny<Exception>(() => LasthopeServer.StartAsync(new ServerSetup
            {
                DataDirectory = data,
                Urls = "http://127.0.0.1:0",
                Settings = new Dictionary<string, string?> { ["Lasthope:Retraining:EveryHours"] = "24", ["Lasthope:Retraining:Surfaces:0"] = "nowhere" },
                ConfigureServices = services =>
                {
                    services.AddSqliteEventStore();
                    RetrainSchedule.Register(services, configFile: null);
                },
            }).GetAwaiter().GetResult());
            Assert.Contains("Retraining:Surfaces", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(data))
            {
                ExploredLogFixture.Delete(data);
            }
        }
    }

    private static System.Text.Json.JsonDocument Json(string output) => System.Text.Json.JsonDocument.Parse(output[output.LastIndexOf("\n{", StringComparison.Ordinal)..]);

    private static double DrLower(System.Text.Json.JsonElement root) =>
        root.GetProperty("estimate").GetProperty("difference")[2].GetProperty("value").GetProperty("lower").GetDouble();

    /// <summary>The logged top in reverse: its last row first.</summary>
    private sealed class Reversed : RerankPolicy
    {
        public override string Name => "reversed";

        public override void Score(Lasthope.Core.Events.FeatureLog log, int rows, Span<double> scores)
        {
            for (var r = 0; r < rows; r++)
            {
                scores[r] = r;
            }
        }
    }
}

/// <summary>
/// The Open Bandit paper's protocol (Saito et al. 2021) through the tools a user has: the Thompson-sampling log is
/// imported with its propensities, and <c>lasthope ope</c>'s interval for the uniformly random policy must cover the
/// random log's own CTR.
/// </summary>
public sealed class OpenBanditOpeTests
{
    [Fact]
    public async Task ImportedBanditLog_TheRandomPolicysEstimatedCtr_CoversTheRandomLogsCtr()
    {
        var bandit = TestData.Require("open-bandit/bts/men/men.csv");
        var random = TestData.Require("open-bandit/random/men/men.csv");
        var items = File.ReadLines(TestData.Require("open-bandit/bts/men/item_context.csv")).Count() - 1;
        var clickColumn = Array.IndexOf(File.ReadLines(random).First().Split(','), "click");
        var randomCtr = File.ReadLines(random).Skip(1).Average(line => double.Parse(line.Split(',')[clickColumn], System.Globalization.CultureInfo.InvariantCulture));

        var data = CliHarness.TempDirectory();
        try
        {
            var (exit, _, error) = await CliHarness.RunAsync("import", bandit, "--data", data, "--preset", "open-bandit");
            Assert.True(exit == 0, error);
            string output;
            (exit, output, error) = await CliHarness.RunAsync("ope", "--data", data, "--surface", "open-bandit", "--policy", "uniform", "--pool", $"{items}", "--json", "-");
            Assert.True(exit == 0, error);
            using var json = System.Text.Json.JsonDocument.Parse(output[output.IndexOf('{', StringComparison.Ordinal)..]);
            var estimate = json.RootElement.GetProperty("estimate");
            Assert.Equal(10_000, estimate.GetProperty("decisions").GetInt32());
            foreach (var name in new[] { "ips", "selfNormalizedIps" })
            {
                var value = estimate.GetProperty(name).GetProperty("value");
                var (lower, upper) = (value.GetProperty("lower").GetDouble(), value.GetProperty("upper").GetDouble());
                Assert.True(lower <= randomCtr && randomCtr <= upper, $"{name} [{lower}, {upper}] misses the random log's CTR {randomCtr}");
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }
}
