using Lasthope.Cli.Demo;

namespace Lasthope.Cli.Tests;

/// <summary>
/// The ab-test scenario at test size (a week of history at 1,000 requests a day, a 1,500-tree model, two days per
/// phase). The traffic, the arms and the model are seeded; only the latencies depend on the machine, so the checks on
/// them compare the two phases with each other (the model costs 3.3 times as much at K = 1000 as at K = 300) rather
/// than with fixed figures. The full run and its figures are in docs/performance.md.
/// </summary>
public sealed class AbTestScenarioTests
{
    [Fact]
    public async Task TheScenario_ShowsTheMixtureAtK1000_AndNotAtK300()
    {
        var data = CliHarness.TempDirectory();
        try
        {
            var result = await new AbTestScenario(new AbTestOptions
            {
                HistoryDays = 7, PhaseDays = 2, RequestsPerDay = 1_000, Trees = 30, Bags = 50, DepthRequests = 100,
                DataDirectory = data,
            }).RunAsync(cancellationToken: TestContext.Current.CancellationToken);

            Assert.Equal([1_000, 300], result.Phases.Select(p => p.RerankDepth));
            Assert.True(result.TrainingQueries > 100, $"{result.TrainingQueries} explored queries with clicks");
            Assert.Equal(1_500, result.ModelTrees);
            foreach (var phase in result.Phases)
            {
                // Users are split by a hash of their id: the split is the configured 50/50 and the test stays silent.
                Assert.Equal(["control", "model"], phase.Arms.Select(a => a.Arm));
                Assert.False(phase.Srm.Alarm, $"K = {phase.RerankDepth}: SRM p = {phase.Srm.PValue}");
                Assert.Equal(0, phase.Arms.Single(a => a.Arm == "control").FallbackShare);
                Assert.True(phase.Itt.Ci[0] <= phase.Itt.Estimate && phase.Itt.Estimate <= phase.Itt.Ci[1], $"{phase.Itt.Estimate} outside [{phase.Itt.Ci[0]}, {phase.Itt.Ci[1]}]");
                Assert.InRange(phase.Arms.Sum(a => a.Users), 1_000, 2_000);
            }

            var (k1000, k300) = (result.Phases[0], result.Phases[1]);
            var notAsAssigned1000 = k1000.FallbackSkew.FallbackShare + k1000.FallbackSkew.PartialShare;
            var notAsAssigned300 = k300.FallbackSkew.FallbackShare + k300.FallbackSkew.PartialShare;
            Assert.True(notAsAssigned1000 > notAsAssigned300, $"K = 1000: {notAsAssigned1000:P1} not served as assigned, K = 300: {notAsAssigned300:P1}");
            Assert.Equal(k1000.FallbackSkew.Alarm, notAsAssigned1000 > k1000.FallbackSkew.Threshold);
            if (k1000.FallbackSkew.Alarm)
            {
                Assert.Contains("measures a mixture", k1000.Verdict, StringComparison.Ordinal);
            }

            Assert.Equal([0, 300, 1_000], result.DepthStudy.Select(d => d.Depth));
            Assert.True(result.DepthStudy[2].Server.P50 > result.DepthStudy[1].Server.P50, "scoring 1,000 candidates took no longer than 300");
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task TheScenario_RefusesSettingsItCannotRun()
    {
        var (exit, _, error) = await CliHarness.RunAsync("demo", "--scenario", "ab-test", "--candidates", "100");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("candidates 1,000-10,000", error, StringComparison.Ordinal);
    }
}
