using Lasthope.Server.Cascade;
using Lasthope.Server.Configuration;

namespace Lasthope.Server.Tests;

/// <summary>
/// Experiment arms and fault-injection choices must not move between versions, machines or restarts: a user who saw
/// the treatment yesterday sees it today. These values were computed once (XxHash3, 2026-12) and are pinned here; a
/// change to the hash or to how its input is built fails this test.
/// </summary>
public sealed class StableHashTests
{
    [Theory]
    [InlineData("u-1", "2026-11", 0, 0.6474319426840368)]
    [InlineData("client-42", "rerank-v1", 0, 0.7048878272934781)]
    [InlineData("日本", "salt", 0, 0.9329651772171086)]
    [InlineData("r-1001", "model-latency", 7, 0.6629153049568324)]
    [InlineData("", "", 0, 0.8388202331072201)]
    public void Uniform_IsPinned(string key, string domain, long seed, double expected) => Assert.Equal(expected, StableHash.Uniform(key, domain, seed));

    [Fact]
    public void ArmsOfAnExperiment_ArePinned()
    {
        var assigner = new ExperimentAssigner([new ExperimentOptions
        {
            Id = "e",
            Salt = "2026-11",
            Surface = "home",
            Arms = [new ArmOptions { Name = "control" }, new ArmOptions { Name = "treatment", Policy = "active" }],
        }]);
        var arms = string.Join(",", Enumerable.Range(0, 20).Select(i => assigner.Assign("home", $"user-{i}")!.Arm.Name[0]));
        Assert.Equal("c,c,c,t,t,t,t,c,t,t,t,c,c,c,c,c,c,t,c,t", arms);
    }

    [Fact]
    public void Uniform_TellsDomainAndKeyApart_AndIsUniform()
    {
        Assert.NotEqual(StableHash.Uniform("ab", "c"), StableHash.Uniform("b", "ca"));
        Assert.NotEqual(StableHash.Uniform(new string('x', 2_000), "d"), StableHash.Uniform(new string('x', 1_999), "d"));
        var values = Enumerable.Range(0, 20_000).Select(i => StableHash.Uniform($"user-{i}", "salt")).ToArray();
        Assert.All(values, v => Assert.InRange(v, 0, 1 - double.Epsilon));
        Assert.InRange(values.Average(), 0.49, 0.51); // sd of the mean: 0.002
        Assert.InRange(values.Count(v => v < 0.1) / 20_000.0, 0.09, 0.11);
    }
}
