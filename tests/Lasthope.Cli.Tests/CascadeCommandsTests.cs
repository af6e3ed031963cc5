using Lasthope.Cli.Demo;
using Lasthope.Server.Hosting;
using Lasthope.Storage.Sqlite;

namespace Lasthope.Cli.Tests;

/// <summary>
/// The [3 of 4] tool chain end to end on a small world: simulated heuristic traffic with logged features, a ranker
/// trained from those logs, registered and activated, then a server that serves it, driven by the load and depth tools.
/// </summary>
public sealed class CascadeCommandsTests : IAsyncLifetime
{
    private const int Days = 4, PerDay = 600, Candidates = 150;
    private string _data = "";
    private DateTimeOffset _end;

    public async ValueTask InitializeAsync()
    {
        _data = CliHarness.TempDirectory();
        var result = await new DemoRunner(new DemoOptions { Days = Days, RequestsPerDay = PerDay, CandidatesPerRequest = Candidates, Surface = "home", Concurrency = 2, DataDirectory = _data })
            .RunAsync(cancellationToken: TestContext.Current.CancellationToken);
        _end = result.SimulatedEnd;
    }

    /// <summary>Settings that declare the surface the tests serve.</summary>
    private static Dictionary<string, string?> WithHome(Dictionary<string, string?>? settings = null)
    {
        settings ??= [];
        settings["Lasthope:Serving:Surfaces:home"] = "";
        return settings;
    }

    public ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task TrainRanker_FromLoggedFeatures_ComparesWithTheHeuristic_RegistersAndActivates_AndTheServerServesIt()
    {
        var model = Path.Combine(_data, "ranker.txt");
        var (exit, output, error) = await CliHarness.RunAsync("train-ranker", "--data", _data, "--surface", "home", "--out", model, "--trees", "30", "--num-leaves", "7", "--threads", "1", "--activate");
        Assert.True(exit == ExitCodes.Ok, error + output);
        Assert.True(File.Exists(model));
        Assert.Contains("ndcg@10", output, StringComparison.Ordinal);
        Assert.Matches(@"model - heuristic", output);
        Assert.Matches(@"registered home-\S+ for surface home \(active\)", output);

        (exit, output, _) = await CliHarness.RunAsync("model", "list", "--data", _data);
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("active=home", output, StringComparison.Ordinal);

        await using var server = await LasthopeServer.StartAsync(new ServerSetup { Urls = "http://127.0.0.1:0", DataDirectory = _data, Time = new OffsetClock(_end), Settings = WithHome(), ConfigureServices = s => s.AddSqliteEventStore() }, TestContext.Current.CancellationToken);
        var url = server.BaseAddress.ToString();
        (exit, output, error) = await CliHarness.RunAsync(
            "loadtest", "--url", url, "--rate", "40", "--duration", "2", "--warmup", "0.5", "--candidates", $"{Candidates}", "--requests-per-day", $"{PerDay}", "--day", $"{Days}", "--surface", "home");
        Assert.True(exit == ExitCodes.Ok, error + output);
        Assert.Matches(@"measured 2 s: \d+ responses", output);
        Assert.Matches(@"\nmodel\s+\d+", output);

        (exit, output, error) = await CliHarness.RunAsync(
            "depth-study", "--url", url, "--depths", "0,50,150", "--requests", "15", "--candidates", $"{Candidates}", "--requests-per-day", $"{PerDay}", "--day", $"{Days}", "--surface", "home");
        Assert.True(exit == ExitCodes.Ok, error + output);
        var rows = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
        Assert.Equal(3, rows.Count);
        Assert.StartsWith("0 ", rows[0], StringComparison.Ordinal);
        Assert.Contains("heuristic 15", rows[0], StringComparison.Ordinal);
        Assert.Contains("model 15", rows[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Loadtest_CountsRefusalsAtTheDoorApartFromErrors()
    {
        // A door of one request: eight clients in a closed loop are bound to find it taken.
        var settings = WithHome(new() { ["Lasthope:Serving:MaxRequestsInFlight"] = "1" });
        await using var server = await LasthopeServer.StartAsync(new ServerSetup { Urls = "http://127.0.0.1:0", DataDirectory = _data, Time = new OffsetClock(_end), Settings = settings, ConfigureServices = s => s.AddSqliteEventStore() }, TestContext.Current.CancellationToken);
        var (exit, output, error) = await CliHarness.RunAsync(
            "loadtest", "--url", server.BaseAddress.ToString(), "--rate", "0", "--concurrency", "8", "--duration", "2", "--warmup", "0.5", "--candidates", $"{Candidates}", "--requests-per-day", $"{PerDay}", "--day", $"{Days}", "--surface", "home");

        Assert.True(exit == ExitCodes.Ok, error + output); // refusals are the server's design, not the tool's errors
        var counts = System.Text.RegularExpressions.Regex.Match(output, @"([\d,]+) refused at the door \(503\), (\d+) errors");
        Assert.True(counts.Success, output);
        Assert.True(long.Parse(counts.Groups[1].Value, System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.InvariantCulture) > 0, output);
        Assert.Equal("0", counts.Groups[2].Value);
    }

    [Fact]
    public async Task ModelAdd_RefusesAModelWhoseFeaturesDoNotMatch_WithABadInputExitCode()
    {
        var file = Path.Combine(_data, "bad-model.txt");
        await File.WriteAllTextAsync(file, "not a model", TestContext.Current.CancellationToken);
        var (exit, _, error) = await CliHarness.RunAsync("model", "add", file, "--surface", "home", "--data", _data);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("cannot be loaded", error, StringComparison.Ordinal);

        (exit, _, error) = await CliHarness.RunAsync("model", "activate", "no-such-version", "--data", _data);
        Assert.Equal(ExitCodes.NotFound, exit);
    }

    [Fact]
    public async Task LoadTools_RefuseAnythingButLoopback()
    {
        var (exit, _, error) = await CliHarness.RunAsync("loadtest", "--url", "http://192.0.2.1:8080", "--duration", "1");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("loopback", error, StringComparison.Ordinal);
        (exit, _, _) = await CliHarness.RunAsync("loadtest", "--url", "not a url");
        Assert.NotEqual(ExitCodes.Ok, exit);
    }
}
