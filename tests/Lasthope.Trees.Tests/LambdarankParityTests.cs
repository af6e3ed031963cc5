using Lasthope.Evaluation;
using Lasthope.Trees.Native;

namespace Lasthope.Trees.Tests;

/// <summary>On LightGBM's own lambdarank example: the evaluator reproduces lib_lightgbm exactly.</summary>
public sealed class LambdarankParityTests(LambdarankFixture fixture) : IClassFixture<LambdarankFixture>
{
    [Fact]
    public void ExampleModel_ScoresRankTestExactlyAsLibLightGbm()
    {
        var model = TreeModel.FromLightGbm(fixture.Result.ModelText);
        using var booster = LightGbmBooster.FromString(fixture.Result.ModelText);

        Assert.Equal("lambdarank", model.Objective);
        Assert.Equal(fixture.Result.IterationsKept, model.TreeCount);
        Parity.AssertSameLeaves(model, booster, fixture.Test.Features);
        Parity.AssertSameRawScores(model, booster, fixture.Test.Features);
        Parity.AssertSameRawScores(model, booster, fixture.Train.Features);
    }

    [Fact]
    public void ExampleModel_NdcgOnRankTest_MatchesLightGbmsOwnValidationMetric()
    {
        var model = TreeModel.FromLightGbm(fixture.Result.ModelText);
        var test = fixture.Test;
        var scores = new double[test.Rows];
        model.Score(test.Features, scores);
        var offsets = test.GroupOffsets();
        var best = fixture.Result.History[^1];
        foreach (var k in new[] { 1, 3, 5, 10 })
        {
            var perQuery = new double[test.Groups.Length];
            for (var q = 0; q < perQuery.Length; q++)
            {
                var range = offsets[q]..offsets[q + 1];
                perQuery[q] = Ndcg.AtK(scores.AsSpan()[range], test.Labels[range].Select(l => (int)l).ToArray(), k);
            }

            // Same model, same data, same metric conventions: LightGBM's number, up to its float accumulation.
            Assert.Equal(best.Metric($"ndcg@{k}")!.Value, perQuery.Average(), 1e-6);
        }
    }
}
