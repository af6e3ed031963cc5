using Lasthope.Cli.Demo;
using Lasthope.Storage.Sqlite;
using Lasthope.Testing;
using Lasthope.Training;

namespace Lasthope.Cli.Tests;

/// <summary>
/// Off-policy estimates validated in the simulator: a surface explores 30% of its requests (3 of the top 20 shown);
/// the explored requests are on-policy samples of the uniform policy and the rest of the unexplored one, so each
/// policy's CTR, obtained by running it on its share of the same days, must lie in the interval estimated from the
/// whole log's propensities.
/// </summary>
public sealed class OffPolicyCommandTests : IAsyncLifetime
{
    private string _data = "";

    public async ValueTask InitializeAsync()
    {
        _data = CliHarness.TempDirectory();
        await new DemoRunner(new DemoOptions
        {
            Days = 5,
            RequestsPerDay = 2_000,
            CandidatesPerRequest = 100,
            Count = 3,
            Surface = "home",
            Concurrency = 1,
            DataDirectory = _data,
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
        Directory.Delete(_data, recursive: true);
        return ValueTask.CompletedTask;
    }

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

        (exit, _, error) = await CliHarness.RunAsync("ope", "--data", _data, "--surface", "nowhere", "--policy", "uniform");
        Assert.Equal(ExitCodes.NotFound, exit);
        Assert.Contains("no rankings of surface 'nowhere'", error, StringComparison.Ordinal);

        (exit, _, error) = await CliHarness.RunAsync("ope", "--data", _data, "--surface", "home", "--policy", "uniform", "--pool", "1");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("--pool", error, StringComparison.Ordinal);
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
