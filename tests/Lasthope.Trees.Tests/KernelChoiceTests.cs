using Lasthope.Trees;

namespace Lasthope.Trees.Tests;

public sealed class KernelChoiceTests
{
    [Fact]
    public void ChooseKernel_KeepsEveryScoreToTheBit_WhicheverKernelWins()
    {
        for (var seed = 1; seed <= 20; seed++)
        {
            // Numerical trees of up to 64 leaves: both kernels can score them, so there is a real choice.
            var text = RandomModels.Make(seed, trees: 40, maxLeaves: 64, categorical: false);
            var model = TreeModel.FromLightGbm(text);
            var x = RandomModels.Rows(seed, 200);
            var before = new double[200];
            model.Score(x, before);
            Assert.Equal("bitvector", model.ScoringKernel);

            var chosen = model.ChooseKernel(x);
            Assert.Contains(chosen, new[] { "bitvector", "lockstep" });
            Assert.Equal(chosen, model.ScoringKernel);
            Assert.Equal(chosen, model.ChooseKernel(x)); // decided once
            var after = new double[200];
            model.Score(x, after);
            Assert.Equal(before.Select(BitConverter.DoubleToInt64Bits), after.Select(BitConverter.DoubleToInt64Bits));
        }
    }

    [Fact]
    public void ChooseKernel_LeavesCategoricalModels_AndEmptyRows_AsTheyAre()
    {
        var categorical = TreeModel.FromLightGbm(RandomModels.Make(3, trees: 5, maxLeaves: 20, categorical: true));
        var kernel = categorical.ScoringKernel;
        Assert.Equal(kernel, categorical.ChooseKernel(RandomModels.Rows(3, 10)));
        var numerical = TreeModel.FromLightGbm(RandomModels.Make(4, trees: 5, maxLeaves: 20, categorical: false));
        Assert.Equal("bitvector", numerical.ChooseKernel([]));
        Assert.Contains(numerical.ChooseKernel(RandomModels.Rows(4, 64)), new[] { "bitvector", "lockstep" }); // empty rows decided nothing
    }
}
