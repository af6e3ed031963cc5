namespace Lasthope.Cli.Tests;

/// <summary>Bad arguments exit 2 with one line and a short usage on standard error; missing data exits 3 and creates nothing.</summary>
public sealed class ExitCodeTests
{
    [Theory]
    [InlineData("stats")]
    [InlineData("stats", "item", "--bogus")]
    [InlineData("model")]
    [InlineData("serve", "--log-level", "Loud")]
    [InlineData("no-such-command")]
    [InlineData("loadtest", "--url", "not a url")]
    public async Task AnArgumentError_Exits2_WithOneLineAndAShortUsage_OnStandardError(params string[] args)
    {
        var (exit, output, error) = await CliHarness.RunAsync(args);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("", output);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("error: ", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("usage: lasthope", lines[1], StringComparison.Ordinal);
        Assert.True(lines.Length <= 3, error); // not the whole help
    }

    [Theory]
    [InlineData("stats", "item")]
    [InlineData("log-summary")]
    [InlineData("position-bias")]
    [InlineData("model", "list")]
    [InlineData("model", "activate", "v1")]
    [InlineData("train-ranker", "--surface", "home", "--out", "model.txt")]
    public async Task AToolThatReadsADataDirectory_ThatDoesNotExist_Exits3_AndCreatesNothing(params string[] args)
    {
        var data = CliHarness.TempDirectory();
        var (exit, _, error) = await CliHarness.RunAsync([.. args, "--data", data]);
        Assert.Equal(ExitCodes.NotFound, exit);
        Assert.Contains("No Lasthope store at", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(data), "the data directory was created");
    }

    [Fact]
    public async Task Serve_OnAnAddressThatDoesNotParse_Exits2_NamingIt()
    {
        var data = CliHarness.TempDirectory();
        var (exit, _, error) = await CliHarness.RunAsync("serve", "--data", data, "--urls", "http://127.0.0.1:notaport");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("'http://127.0.0.1:notaport'", error, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(data));
    }

    [Fact]
    public async Task Serve_BeyondLoopbackWithoutKeys_Exits2_SayingWhy()
    {
        var (exit, _, error) = await CliHarness.RunAsync("serve", "--data", CliHarness.TempDirectory(), "--urls", "http://0.0.0.0:0");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("no API key is configured", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_WithBothClocks_Exits2_SayingTheyExcludeEachOther()
    {
        var data = CliHarness.TempDirectory();
        var (exit, _, error) = await CliHarness.RunAsync("serve", "--data", data, "--clock-start", "2025-01-01T00:00:00Z", "--event-clock", "2025-01-01T00:00:00Z");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("exclude each other", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(data));
    }

    [Fact]
    public async Task Serve_RetrainingAnUnknownSurface_Exits2_NamingTheKey()
    {
        var data = CliHarness.TempDirectory();
        var config = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(config, """{"Lasthope": {"Retraining": {"EveryHours": 24, "Surfaces": ["nowhere"]}}}""", TestContext.Current.CancellationToken);
            var (exit, _, error) = await CliHarness.RunAsync("serve", "--data", data, "--config", config, "--urls", "http://127.0.0.1:0");
            Assert.Equal(ExitCodes.BadInput, exit);
            Assert.Contains("Retraining:Surfaces", error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(config);
            if (Directory.Exists(data))
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                Directory.Delete(data, recursive: true);
            }
        }
    }
}
