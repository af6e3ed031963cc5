namespace Lasthope.Cli.Tests;

/// <summary><c>lasthope demo --scenario ltv</c> at a small size: it runs, compares the model with the BI heuristic, and writes its report.</summary>
public sealed class LtvScenarioTests : IDisposable
{
    private readonly string _dir = CliHarness.TempDirectory();

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public async Task Ltv_TrainsOnOldCohorts_PredictsNewOnes_BesideTheHeuristic_AndWritesTheBiReport()
    {
        var html = Path.Combine(_dir, "ltv.html");
        Directory.CreateDirectory(_dir);
        var (exit, output, err) = await CliHarness.RunAsync("demo", "--scenario", "ltv", "--players-per-day", "1000", "--data", Path.Combine(_dir, "data"), "--html", html);

        Assert.True(exit == ExitCodes.Ok, err + output);
        Assert.Matches("of the old cohorts train, [0-9,]+ of the new ones are predicted", output);
        Assert.Matches("rmse +gbdt [0-9.]+ \\[[0-9.]+, [0-9.]+\\] +bi-heuristic [0-9.]+", output);
        Assert.Matches("gbdt is (better than|no better than|worse than) the", output);
        Assert.Contains("whale precision at k", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_dir, "data", "players-old-cohorts.csv")));
        var page = await File.ReadAllTextAsync(html, TestContext.Current.CancellationToken);
        foreach (var section in new[] { "<h2>LTV by install cohort</h2>", "<h2>Predicted against actual</h2>", "<h2>Decile lift</h2>", "<h2>Whales</h2>", "BI heuristic", "<svg" })
        {
            Assert.Contains(section, page, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("<script", page, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Ltv_RefusesATooSmallPopulation_WithExitCode2()
    {
        var (exit, _, err) = await CliHarness.RunAsync("demo", "--scenario", "ltv", "--players-per-day", "10");
        Assert.True(exit == ExitCodes.BadInput, err);
        Assert.Contains("--players-per-day", err, StringComparison.Ordinal);
    }
}
