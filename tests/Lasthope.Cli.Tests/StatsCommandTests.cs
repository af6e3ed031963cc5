namespace Lasthope.Cli.Tests;

public class StatsCommandTests
{
    [Fact]
    public async Task Stats_PrintsPerSegmentCounters_FromTheDataDirectory()
    {
        var data = CliHarness.TempDirectory();
        var file = Path.Combine(Path.GetTempPath(), $"lasthope-{Guid.NewGuid():N}.jsonl");
        var now = DateTimeOffset.UtcNow;
        await File.WriteAllLinesAsync(file,
        [
            $$"""{"requestId": "r1", "timestamp": "{{now.AddHours(-2):O}}", "user": {"id": "u1", "age": 30, "gender": "f"}, "items": ["a", "b"]}""",
            $$"""{"requestId": "r2", "timestamp": "{{now.AddHours(-1):O}}", "user": {"id": "u2", "age": 61, "gender": "m"}, "items": ["a"]}""",
            $$"""{"eventId": "e1", "itemId": "a", "requestId": "r1", "timestamp": "{{now.AddHours(-2):O}}"}""",
        ], TestContext.Current.CancellationToken);
        try
        {
            Assert.Equal(ExitCodes.Ok, (await CliHarness.RunAsync("import", file, "--data", data)).ExitCode);
            var (exit, output, error) = await CliHarness.RunAsync("stats", "a", "--data", data);
            Assert.True(exit == ExitCodes.Ok, error);
            var overall = output.Split('\n').Single(l => l.Contains("overall", StringComparison.Ordinal));
            Assert.Matches(@"overall\s*│\s*2\s*│\s*1\.0\s*│\s*2\s*│\s*1\.0", overall);
            var women = output.Split('\n').Single(l => l.Contains("f:25-34", StringComparison.Ordinal));
            Assert.Matches(@"f:25-34\s*│\s*1\s*│\s*1\.0", women);

            (exit, output, _) = await CliHarness.RunAsync("stats", "a", "--data", data, "--json");
            Assert.Equal(ExitCodes.Ok, exit);
            Assert.Contains("\"clicks7d\":1", output, StringComparison.Ordinal);

            (exit, _, _) = await CliHarness.RunAsync("stats", "never-seen", "--data", data);
            Assert.Equal(ExitCodes.NotFound, exit);
        }
        finally
        {
            File.Delete(file);
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }
}
