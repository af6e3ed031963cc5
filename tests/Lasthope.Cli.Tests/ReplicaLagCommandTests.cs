using System.Text.Json;
using Lasthope.Server.Hosting;
using Lasthope.Testing;

namespace Lasthope.Cli.Tests;

/// <summary>
/// <c>lasthope loadtest lag</c> against two real servers on one PostgreSQL database (a real cluster the test starts):
/// every probe accepted by one is seen counted by the other, and the lag is measured. The figures are only reported
/// here; the bar is measured by scripts/replica-lag.sh (docs/performance.md).
/// </summary>
public sealed class ReplicaLagCommandTests
{
    [Fact]
    public async Task Lag_AtALowRate_SeesEveryProbeOnTheOtherReplica_AndMeasuresItsLag()
    {
        var data = CliHarness.TempDirectory();
        Directory.CreateDirectory(data);
        var settings = new Dictionary<string, string?>
        {
            ["Lasthope:Storage:Backend"] = "postgres",
            ["Lasthope:Storage:Postgres:ConnectionString"] = await (await PostgresServer.RequireAsync()).CreateDatabaseAsync(),
        };
        try
        {
            await using var a = await StartAsync(Path.Combine(data, "a"), settings);
            await using var b = await StartAsync(Path.Combine(data, "b"), settings);
            var json = Path.Combine(data, "lag.json");
            var (exit, output, error) = await CliHarness.RunAsync(
                "loadtest", "lag", "--url", a.BaseAddress.ToString(), "--replica-url", b.BaseAddress.ToString(),
                "--rate", "100", "--duration", "3", "--warmup", "0.5", "--rank-rate", "10", "--json", json);
            TestContext.Current.SendDiagnosticMessage(output);
            Assert.True(exit == ExitCodes.Ok, error + output);
            Assert.Matches(@"probes \d+: \d+ seen, 0 not seen within 10 s, 0 not accepted", output);

            var r = JsonDocument.Parse(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken)).RootElement;
            Assert.True(r.GetProperty("Probes").GetInt64() >= 50, output); // one every 50 ms for 3 s
            Assert.Equal(r.GetProperty("Probes").GetInt64(), r.GetProperty("ProbesSeen").GetInt64());
            Assert.Equal(0, r.GetProperty("Errors").GetInt64());
            Assert.True(r.GetProperty("Lag").GetProperty("P50").GetDouble() > 0, output);
            Assert.True(r.GetProperty("MinLagMs").GetDouble() > 0, output);
            Assert.True(r.GetProperty("EventsAccepted").GetInt64() == r.GetProperty("EventsSent").GetInt64(), output);
            Assert.True(r.GetProperty("RankRequests").GetInt64() > 0, output);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Theory]
    [InlineData("--url", "http://10.1.2.3:8080")]
    [InlineData("--replica-url", "http://10.1.2.3:8080")]
    public async Task Lag_RefusesATargetBeyondLoopback(string option, string value)
    {
        string[] args = ["loadtest", "lag", "--url", "http://127.0.0.1:1", "--replica-url", "http://127.0.0.1:2"];
        args[Array.IndexOf(args, option) + 1] = value;
        var (exit, _, error) = await CliHarness.RunAsync(args);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains($"{option} must be a loopback address", error, StringComparison.Ordinal);
    }

    private static Task<LasthopeServer> StartAsync(string directory, Dictionary<string, string?> settings) => LasthopeServer.StartAsync(
        new ServerSetup { Urls = "http://127.0.0.1:0", DataDirectory = directory, Settings = new Dictionary<string, string?>(settings), ConfigureServices = CliStores.Register },
        TestContext.Current.CancellationToken);
}
