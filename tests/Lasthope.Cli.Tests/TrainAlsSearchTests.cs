using System.Text.Json;
using Lasthope.Factors;

namespace Lasthope.Cli.Tests;

/// <summary>train-als's hyperparameter search from the command line: the factors chosen too, the grid, bad options.</summary>
public sealed class TrainAlsSearchTests : IDisposable
{
    private readonly string _dir = CliHarness.TempDirectory();

    public TrainAlsSearchTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task TrainAls_WithNoHyperparameters_ChoosesTheFactorsToo_AndStoresThemInTheModel()
    {
        var model = Path.Combine(_dir, "tuned.lhals");
        var (exit, output, err) = await CliHarness.RunAsync("train-als", "--input", AlsCommandsTests.PlantedCsv(_dir), "-o", model, "--iterations", "4", "--search-budget", "600", "--json");
        Assert.True(exit == 0, err);
        using var json = JsonDocument.Parse(output);
        var factors = json.RootElement.GetProperty("factors").GetInt32();
        Assert.Contains(factors, AlsTuningOptions.DefaultFactorCandidates);
        Assert.Equal(factors, AlsModel.Load(model).Factors);
        Assert.Contains($"factors {factors}", err, StringComparison.Ordinal);
        Assert.Contains("factors 16/32/64", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrainAls_Grid_TrainsEveryPointOfTheGrid_AndKeepsTheBest()
    {
        var model = Path.Combine(_dir, "grid.lhals");
        var (exit, output, err) = await CliHarness.RunAsync("train-als", "--input", AlsCommandsTests.PlantedCsv(_dir), "-o", model, "--factors", "8", "--iterations", "4", "--grid", "3x2", "--json");
        Assert.True(exit == 0, err);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal("grid", root.GetProperty("chosenBy").GetString());
        Assert.Equal(6, root.GetProperty("search").GetProperty("trials").GetInt32());
        Assert.Equal(8, root.GetProperty("factors").GetInt32());
        Assert.Contains("6-point log grid", err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--grid", "0x3")]
    [InlineData("--grid", "5")]
    [InlineData("--grid", "5x101")]
    [InlineData("--grid", "5x5x32/16")]
    [InlineData("--search-budget", "-1")]
    [InlineData("--search-budget", "NaN")]
    public async Task TrainAls_RefusesABadSearchOption_NamingIt(string option, string value)
    {
        var (exit, _, err) = await CliHarness.RunAsync("train-als", "--input", AlsCommandsTests.PlantedCsv(_dir), "-o", Path.Combine(_dir, "x.lhals"), option, value);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains(option, err, StringComparison.Ordinal);
    }
}
