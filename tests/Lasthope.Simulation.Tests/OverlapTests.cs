namespace Lasthope.Simulation.Tests;

public class OverlapTests
{
    [Fact]
    public void AtK_IsTheShareOfTheTrueTopKFoundInTheFirstKRanked()
    {
        string[] truth = ["a", "b", "c", "d"];

        Assert.Equal(1.0, Overlap.AtK(["d", "c", "b", "a"], truth, 4));
        Assert.Equal(0.5, Overlap.AtK(["a", "x", "c", "y"], truth, 4));
        Assert.Equal(0.5, Overlap.AtK(["b", "x", "a"], truth, 2), 12); // only the first 2 of each count: {b, x} vs {a, b}
        Assert.Equal(0.0, Overlap.AtK(["x", "y"], truth, 2));
    }

    [Fact]
    public void AtK_CountsDuplicatesOnce_AndDividesByTheTruthWhenItIsShorterThanK()
    {
        Assert.Equal(0.5, Overlap.AtK(["a", "a", "a"], ["a", "b"], 10));
        Assert.Equal(1.0, Overlap.AtK(["b", "a", "z"], ["a", "b"], 10));
        Assert.Equal(1.0, Overlap.AtK(["a"], [], 10));
    }

    [Fact]
    public void ChanceAtK_IsKOverTheLiveCatalogue()
    {
        Assert.Equal(10.0 / 300, Overlap.ChanceAtK(10, 300), 12);
        Assert.Equal(1.0, Overlap.ChanceAtK(10, 5));
    }
}
