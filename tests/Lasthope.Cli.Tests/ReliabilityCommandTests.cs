using System.Text.Json;

namespace Lasthope.Cli.Tests;

/// <summary>
/// The reliability suite's short run (<c>lasthope reliability --quick</c>), drill by drill, through the CLI against the
/// real executable. Each test asserts the figures the short run can show on a loaded 2-core machine: no 5xx, no hang,
/// nothing lost or counted twice, restarts with the same counts, uploads refused without the memory growing. The
/// slow-client drill's 100 ms bar depends on the machine's load, so here it is only reported; what is asserted is
/// that the probes are answered at all (a server whose door the slow clients hold refuses them).
/// </summary>
public class ReliabilityCommandTests
{
    [Fact]
    public async Task Fuzz_TwoThousandHostileRequests_GetNo5xx_NoHang_AndLeaveTheServerServing()
    {
        var (exit, output, f) = await RunQuickAsync("fuzz");
        Assert.True(f["requests"] == 2_000, output);
        Assert.True(f["5xx"] == 0, $"5xx: {f["5xx"]}\n{output}");
        Assert.True(f["hangs"] == 0, $"hangs: {f["hangs"]}\n{output}");
        Assert.True(f["liveAfter"] == 1 && f["servingAfter"] == 1, output);
        Assert.True(f["rssGrowthMb"] < Reliability.FuzzDrill.MaxRssGrowthMb, $"RSS growth {f["rssGrowthMb"]} MB\n{output}");
        Assert.True(f["4xx"] > 0 && f["2xx"] > 0, output); // the generator made both bad and good requests
        Assert.True(exit == ExitCodes.Ok, output);
    }

    [Fact]
    public async Task Kills_TenSigkillsUnderEventLoad_LoseNothingAcknowledged_AndCountNothingTwice()
    {
        var (exit, output, f) = await RunQuickAsync("kills");
        Assert.True(f["kills"] == 10 && f["restarts"] == 10 && f["restartFailures"] == 0, output);
        Assert.True(f["eventsAcknowledged"] > 0, output);
        Assert.True(f["lost"] == 0, $"lost: {f["lost"]}\n{output}");
        Assert.True(f["doubled"] == 0, $"doubled: {f["doubled"]}\n{output}");
        Assert.True(f["missing"] == 0 && f["unexpectedDuplicates"] == 0, output);
        Assert.True(exit == ExitCodes.Ok, output);
    }

    [Fact]
    public async Task Kills_TwentySigkillsOfOneOfTwoReplicasOnPostgres_LoseNothing_AndTheOtherConverges()
    {
        var database = await (await Lasthope.Testing.PostgresServer.RequireAsync()).CreateDatabaseAsync();
        var (exit, output, f) = await RunQuickAsync("kills", "--kills", "20", "--postgres", database);
        Assert.True(f["kills"] == 20 && f["restarts"] == 20 && f["restartFailures"] == 0, output);
        Assert.True(f["eventsAcknowledged"] > 0, output);
        Assert.True(f["lost"] == 0 && f["doubled"] == 0 && f["missing"] == 0 && f["unexpectedDuplicates"] == 0, output);
        Assert.True(f["replicaDoubled"] == 0 && f["replicaMissing"] == 0, output);
        Assert.True(exit == ExitCodes.Ok, output);
    }

    [Fact]
    public async Task SlowClients_TwoHundredTricklingConnections_DoNotStopOrdinaryRankRequests()
    {
        var (_, output, f) = await RunQuickAsync("slow");
        TestContext.Current.SendDiagnosticMessage($"slow-client drill: {f["shareUnder100Ms"]:P1} of probes under 100 ms, p99 {f["probeP99Ms"]} ms");
        Assert.True(f["slowOpenAtStart"] >= 150, output); // the drill really had the slow connections open
        Assert.True(f["probesOk"] >= 0.95 * f["probes"], $"{f["probesOk"]} of {f["probes"]} probes answered 200 within 5 s\n{output}");
        Assert.True(f["liveAfter"] == 1, output);
    }

    [Fact]
    public async Task Uploads_ParallelAndOversizedGarbageModels_AreRefused_WithoutTheMemoryGrowing()
    {
        var (exit, output, f) = await RunQuickAsync("upload");
        Assert.True(f["uploads"] == 6, output);
        Assert.True(f["answered413"] + f["answered429"] == f["uploads"], output);
        Assert.True(f["5xx"] == 0 && f["hangs"] == 0, output);
        Assert.True(f["rssGrowthMb"] < Reliability.UploadDrill.MaxRssGrowthMb, $"RSS growth {f["rssGrowthMb"]} MB\n{output}");
        Assert.True(f["liveAfter"] == 1, output);
        Assert.True(exit == ExitCodes.Ok, output);
    }

    [Fact]
    public async Task Restart_AfterEdgeCaseRequests_StartsAgainWithTheSameCounts()
    {
        var (exit, output, f) = await RunQuickAsync("restart");
        Assert.True(f["requests200"] + f["requestsRefusedByIdContract"] == f["requests"] && f["requestsRefusedByIdContract"] <= 1, output);
        Assert.True(f["stopExitCode"] == 0, output);
        Assert.True(f["restarted"] == 1, output);
        Assert.True(f["statusDifferences"] == 0 && f["itemDifferences"] == 0 && f["itemsCompared"] > 20, output);
        Assert.True(exit == ExitCodes.Ok, output);
    }

    [Fact]
    public async Task UnknownDrill_IsBadInput()
    {
        var (exit, _, err) = await CliHarness.RunAsync("reliability", "--drills", "fuzz,nope");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("'nope' is not a drill", err, StringComparison.Ordinal);
    }

    /// <summary>Runs one drill of the short run; returns the exit code, the printed table, and the drill's figures from the JSON report.</summary>
    private static async Task<(int Exit, string Output, Dictionary<string, double> Figures)> RunQuickAsync(string drill, params string[] more)
    {
        var root = CliHarness.TempDirectory();
        Directory.CreateDirectory(root);
        try
        {
            var json = Path.Combine(root, "report.json");
            var (exit, output, err) = await CliHarness.RunAsync(["reliability", "--quick", "--drills", drill, "--json", json, "--data-root", root, .. more]);
            Assert.True(File.Exists(json), $"no report; exit {exit}\n{output}\n{err}");
            using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
            var result = report.RootElement.GetProperty("drills")[0];
            Assert.Equal(drill, result.GetProperty("drill").GetString());
            Assert.True(result.GetProperty("error").ValueKind == JsonValueKind.Null, $"{result.GetProperty("error")}\n{output}");
            var figures = result.GetProperty("figures").EnumerateObject()
                .ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.Number ? p.Value.GetDouble() : double.NaN, StringComparer.Ordinal);
            // The drill deletes its own data directories; only the report is left.
            Assert.Equal(new[] { json }, Directory.GetFileSystemEntries(root));
            return (exit, output, figures);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
