using Lasthope.Factors;

namespace Lasthope.Factors.Tests;

public class FoldInTests
{
    private static readonly AlsOptions HandOptions = new() { Factors = 2, Alpha = 1f, Regularization = 0.1f };

    /// <summary>Items y0 = (1, 0), y1 = (0, 1), y2 = (1, 1); no users.</summary>
    private static AlsModel HandModel() =>
        AlsModel.Create(IdMap.Empty, IdMap.Create(["a", "b", "c"]), 2, [], [1f, 0f, 0f, 1f, 1f, 1f], HandOptions);

    [Fact]
    public void FoldIn_SolvesTheUsersNormalEquations_OnAHandWorkedExample()
    {
        // Y^T Y = [[2, 1], [1, 2]]; item a with r = 1 adds (c - 1) y y^T = [[1, 0], [0, 0]] (c = 2); lambda = 0.1:
        // A = [[3.1, 1], [1, 2.1]], b = c y_a = (2, 0), det A = 5.51, x = A^-1 b = (4.2, -2) / 5.51.
        var x = new float[2];
        HandModel().FoldIn([0], [1f], x);
        Assert.Equal(4.2 / 5.51, x[0], 5);
        Assert.Equal(-2 / 5.51, x[1], 5);
    }

    [Fact]
    public void FoldIn_OfOnlyNegativeFeedback_IsTheZeroVector()
    {
        // A negative weight means preference 0, so b = 0 and the solution is 0.
        var x = new float[2] { 9f, 9f };
        HandModel().FoldIn([2], [-3f], x);
        Assert.Equal([0f, 0f], x);
    }

    [Fact]
    public void FoldIn_AgreesWithARetrainOfTheUserHalfStep_WhenItemFactorsAreFixed()
    {
        var data = TestMatrices.Random(80, 60, 0.1, seed: 11);
        var model = AlsTrainer.Train(data, new AlsOptions { Factors = 16, Alpha = 5f, Regularization = 0.05f, Iterations = 5 });
        var retrained = AlsTrainer.SolveUsersWithFixedItems(model, data, model.Training.Options with { Solver = AlsSolver.Cholesky });
        var x = new float[model.Factors];
        for (var u = 0; u < data.Users.Count; u++)
        {
            model.FoldIn(data.ByUser.RowIndices(u), data.ByUser.RowValues(u), x);
            AlsTrainerTests.AssertClose(retrained.Row(u), x, 1e-4f);
        }
    }

    [Fact]
    public void FoldIn_OfANewUser_MatchesTheUserAsIfTrainedWithTheItemFactorsFixed()
    {
        var data = TestMatrices.Random(50, 40, 0.15, seed: 12);
        var model = AlsTrainer.Train(data, new AlsOptions { Factors = 8, Iterations = 5 });

        // The same data plus one new user; a retrain's user half-step over Y gives the new user's exact factors.
        var builder = new InteractionLogBuilder(data.Users, data.Items);
        for (var u = 0; u < data.Users.Count; u++)
        {
            for (var k = 0; k < data.ByUser.RowLength(u); k++)
            {
                builder.Add(data.Users[u], data.Items[data.ByUser.RowIndices(u)[k]], data.ByUser.RowValues(u)[k]);
            }
        }

        builder.Add("newcomer", "i3", 2f);
        builder.Add("newcomer", "i7", 1f);
        builder.Add("newcomer", "i3", 1f);
        var augmented = builder.Build().ToMatrix();
        var retrained = AlsTrainer.SolveUsersWithFixedItems(model, augmented, model.Training.Options with { Solver = AlsSolver.Cholesky });

        var folded = model.FoldIn([new("i3", 2f), new("i7", 1f), new("i3", 1f), new("never-seen", 1f)]);
        Assert.Equal(1, folded.UnknownItems);
        Assert.Equal([3, 7], folded.SeenItems);
        AlsTrainerTests.AssertClose(retrained.Row(augmented.Users.GetIndex("newcomer")), folded.Factors, 1e-4f);
    }

    [Fact]
    public void FoldIn_WithNoKnownItem_IsEmpty()
    {
        var folded = HandModel().FoldIn([new("zzz", 1f)]);
        Assert.True(folded.IsEmpty);
        Assert.Equal([0f, 0f], folded.Factors);
    }

    [Fact]
    public void FoldedInUser_GetsRecommendations_WithoutItsOwnItems()
    {
        var (data, _, itemCluster) = TestMatrices.Planted(90, 60, 3, 0.5, seed: 13);
        var model = AlsTrainer.Train(data, new AlsOptions { Factors = 8, Iterations = 10 });
        var cluster = itemCluster[4];
        var visits = Enumerable.Range(0, 60).Where(i => itemCluster[i] == cluster).Take(6).Select(i => new KeyValuePair<string, float>($"i{i}", 1f)).ToList();
        var folded = model.FoldIn(visits);
        var top = new ScoredItem[5];
        var n = model.Recommend(folded.Factors, top, seen: folded.SeenItems);
        Assert.Equal(5, n);
        Assert.All(top, s => Assert.Equal(cluster, itemCluster[s.Item]));
        Assert.All(top, s => Assert.DoesNotContain(s.Item, folded.SeenItems));
    }
}
