using Lasthope.Evaluation;

namespace Lasthope.Evaluation.Tests;

public class HyperparameterSearchTests
{
    private static SearchSpace Space() => new SearchSpace()
        .Add("factors", 16, 32, 64)
        .Add("regularization", 0.01, 0.1)
        .Add("alpha", 1, 10);

    [Fact]
    public void Grid_EnumeratesEveryPoint_LastDimensionFastest()
    {
        var grid = Space().Grid();
        Assert.Equal(12, grid.Count);
        Assert.Equal(12, Space().GridSize);
        Assert.Equal(new Dictionary<string, double> { ["factors"] = 16, ["regularization"] = 0.01, ["alpha"] = 10 }, grid[1]);
        Assert.Equal(12, grid.Select(p => string.Join(',', p.Values)).Distinct().Count());
    }

    [Fact]
    public void Sample_DrawsDistinctPoints_Deterministically()
    {
        var a = Space().Sample(5, seed: 3);
        var b = Space().Sample(5, seed: 3);
        Assert.Equal(5, a.Count);
        Assert.Equal(a.Select(p => string.Join(',', p.Values)), b.Select(p => string.Join(',', p.Values)));
        Assert.Equal(5, a.Select(p => string.Join(',', p.Values)).Distinct().Count());
        Assert.Equal(12, Space().Sample(50, seed: 3).Count);
    }

    [Fact]
    public void Run_PicksTheHighestScore_AndNeverANaN()
    {
        var candidates = Space().Grid();
        var result = HyperparameterSearch.Run(
            candidates,
            (p, _) => p["factors"] == 64 && p["alpha"] == 1 ? double.NaN : p["factors"] - (10 * p["regularization"]) + p["alpha"],
            "toy");
        Assert.Equal(12, result.Trials.Count);
        Assert.Equal(64, result.Best.Parameters["factors"]);
        Assert.Equal(0.01, result.Best.Parameters["regularization"]);
        Assert.Equal(10, result.Best.Parameters["alpha"]);
        Assert.Equal("toy", result.Objective);
    }

    [Fact]
    public void Add_RefusesEmptyAndRepeatedDimensions()
    {
        Assert.Throws<ArgumentException>(() => new SearchSpace().Add("a"));
        Assert.Throws<ArgumentException>(() => new SearchSpace().Add("a", 1).Add("a", 2));
    }
}
