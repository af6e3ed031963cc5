using System.Text;
using System.Text.Json;
using Lasthope.Server.Hosting;
using Lasthope.Server.State;
using Microsoft.Extensions.DependencyInjection;
using Lasthope.Storage.Sqlite;

namespace Lasthope.Cli.Tests;

/// <summary><c>lasthope experiment report</c> on a data directory a real server wrote.</summary>
public class ExperimentCommandTests
{
    private const string Config = """
        {"Lasthope": {"Serving": {"Surfaces": {"home": {}}, "Experiments": [{"Id": "ab", "Surface": "home",
          "Arms": [{"Name": "control", "Policy": "heuristic"}, {"Name": "treatment", "Policy": "active"}]}]}}}
        """;

    [Fact]
    public async Task Report_ReadsTheArmsAndPathsOfALoggedExperiment_AndExitsTwoForAnUnknownOne()
    {
        var data = CliHarness.TempDirectory();
        var config = Path.Combine(Path.GetTempPath(), $"lasthope-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(config, Config, TestContext.Current.CancellationToken);
        var settings = new Dictionary<string, string?>
        {
            ["Lasthope:Serving:Surfaces:home"] = "",
            ["Lasthope:Serving:Experiments:0:Id"] = "ab",
            ["Lasthope:Serving:Experiments:0:Surface"] = "home",
            ["Lasthope:Serving:Experiments:0:Arms:0:Name"] = "control",
            ["Lasthope:Serving:Experiments:0:Arms:0:Policy"] = "heuristic",
            ["Lasthope:Serving:Experiments:0:Arms:1:Name"] = "treatment",
            ["Lasthope:Serving:Experiments:0:Arms:1:Policy"] = "active",
        };
        try
        {
            await using (var server = await LasthopeServer.StartAsync(new ServerSetup { Urls = "http://127.0.0.1:0", DataDirectory = data, Settings = settings, Time = new OffsetClock(new DateTimeOffset(2025, 1, 20, 0, 0, 0, TimeSpan.Zero)), ConfigureServices = s => s.AddSqliteEventStore() }, TestContext.Current.CancellationToken))
            {
                using var client = new HttpClient { BaseAddress = server.BaseAddress };
                for (var u = 0; u < 40; u++)
                {
                    var body = $$"""{"requestId": "r{{u}}", "surface": "home", "user": {"id": "user-{{u}}"}, "candidates": ["a", "b", "c", "d"], "count": 3}""";
                    using var ranked = await client.PostAsync(new Uri("/v1/rank", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
                    ranked.EnsureSuccessStatusCode();
                }

                // The same readout through the running server's API.
                await server.Services.GetRequiredService<ImpressionLog>().FlushAsync(TestContext.Current.CancellationToken);
                var (remoteExit, remoteOutput, remoteError) = await CliHarness.RunAsync("experiment", "report", "--experiment", "ab", "--server", server.BaseAddress.ToString(), "--json", "-");
                Assert.True(remoteExit == ExitCodes.Ok, remoteError + remoteOutput);
                var remote = JsonDocument.Parse(remoteOutput[remoteOutput.IndexOf("{\n", StringComparison.Ordinal)..]).RootElement;
                Assert.Equal(40, remote.GetProperty("arms").EnumerateArray().Sum(a => a.GetProperty("users").GetInt32()));
                Assert.Equal(40, remote.GetProperty("arms").EnumerateArray().Sum(a => a.GetProperty("days").EnumerateArray().Sum(d => d.GetProperty("requests").GetInt32())));
                Assert.True(remote.GetProperty("fallbackSkew").GetProperty("alarm").GetBoolean());

                (remoteExit, _, remoteError) = await CliHarness.RunAsync("experiment", "report", "--experiment", "nope", "--server", server.BaseAddress.ToString());
                Assert.Equal(ExitCodes.NotFound, remoteExit);
                Assert.Contains("no experiment 'nope'", remoteError, StringComparison.Ordinal);
            }

            // The history is from 2025: the default 30 days are counted back from its newest ranking, not from today.
            var json = Path.Combine(data, "report.json");
            var html = Path.Combine(data, "report.html");
            var (exit, output, error) = await CliHarness.RunAsync("experiment", "report", "--experiment", "ab", "--data", data, "--config", config, "--json", json, "--html", html);
            Assert.True(exit == ExitCodes.Ok, error + output);
            Assert.Contains("heuristic_fallback", error, StringComparison.Ordinal); // the tables go to the console (standard error)
            Assert.Contains("no_model", error, StringComparison.Ordinal);
            var report = JsonDocument.Parse(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken)).RootElement;
            Assert.Equal(40, report.GetProperty("arms").EnumerateArray().Sum(a => a.GetProperty("users").GetInt32()));
            Assert.Equal(120, report.GetProperty("arms").EnumerateArray().Sum(a => a.GetProperty("impressions").GetInt64()));
            Assert.True(report.GetProperty("fallbackSkew").GetProperty("alarm").GetBoolean());

            // The page stands alone: two inline SVG charts, the verdict, no script and nothing fetched.
            var page = await File.ReadAllTextAsync(html, TestContext.Current.CancellationToken);
            Assert.Equal(2, page.Split("<svg", StringSplitOptions.None).Length - 1);
            Assert.Contains("measures a mixture", page, StringComparison.Ordinal);
            Assert.Contains("ALARM", page, StringComparison.Ordinal);
            Assert.DoesNotContain("<script", page, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("http://", page.Replace("http://www.w3.org/", "", StringComparison.Ordinal), StringComparison.Ordinal);

            (exit, _, error) = await CliHarness.RunAsync("experiment", "report", "--experiment", "nope", "--data", data, "--config", config);
            Assert.Equal(ExitCodes.BadInput, exit);
            Assert.Contains("no experiment 'nope'", error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(config);
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }
}
