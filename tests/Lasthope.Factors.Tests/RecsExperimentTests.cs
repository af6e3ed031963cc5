using Lasthope.Evaluation;
using Lasthope.Factors;

namespace Lasthope.Factors.Tests;

public class RecsExperimentTests
{
    /// <summary>
    /// Users u0..u{users-1}, each with every item of its cluster (u % 3) among i0..i29, one event per (user, item),
    /// with times increasing in item order; ids prefixed by <paramref name="prefix"/>.
    /// </summary>
    private static InteractionLog Log(int users = 60, bool timestamps = true, string prefix = "u", IdMap? knownItems = null, IdMap? knownUsers = null, int items = 30)
    {
        var builder = new InteractionLogBuilder(knownUsers, knownItems);
        for (var u = 0; u < users; u++)
        {
            for (var i = u % 3; i < items; i += 3)
            {
                builder.Add($"{prefix}{u}", $"i{i}", 1f, timestamps ? i : null);
            }
        }

        return builder.Build();
    }

    [Fact]
    public void Holdout_HoldsOutAFifthOfEachUsersItems_AndTrainsOnTheRest()
    {
        var log = Log();
        var experiment = RecsExperiment.Holdout(log, "data/all.csv", new RecsSplitOptions { HoldoutFraction = 0.2, Seed = 3 });
        Assert.Equal(RecsProtocol.Holdout, experiment.Protocol);
        Assert.Equal("holdout", experiment.ProtocolName);
        Assert.Equal("per-user holdout on all.csv", experiment.Description);
        Assert.False(experiment.FoldsIn);
        Assert.Equal(60, experiment.Users.Count);
        Assert.All(experiment.Users, user =>
        {
            Assert.Equal(2, user.Relevant.Length); // round(0.2 * 10)
            Assert.Equal(8, user.Known.Length);
            Assert.Empty(user.Relevant.Intersect(user.Known));
        });
        Assert.Equal(log.Count - (60 * 2), experiment.Train.NonZeros);
        Assert.Equal(new RecsSplitSettings { Input = "data/all.csv", HoldoutFraction = 0.2, MinTrainItems = 1, Seed = 3 }, experiment.Settings);
        Assert.IsType<AlsKnownUserRecommender>(experiment.Recommender(Model(experiment.Train)));
    }

    [Fact]
    public void LastK_HoldsOutEachUsersLatestItems()
    {
        var experiment = RecsExperiment.LastK(Log(), "t.csv", new RecsSplitOptions { LastK = 2 });
        Assert.Equal("last-k", experiment.ProtocolName);
        Assert.Equal(60, experiment.Users.Count);
        Assert.All(experiment.Users, user => Assert.True(user.Relevant.All(r => user.Known.All(k => k < r)), "the held-out items are the latest"));
        Assert.All(experiment.Users, user => Assert.Equal(2, user.Relevant.Length));
        Assert.Equal(2, experiment.Settings.LastK);
        Assert.Null(experiment.Settings.Seed);
    }

    [Fact]
    public void LastK_WithoutTimestamps_SaysSo()
    {
        var e = Assert.Throws<ArgumentException>(() => RecsExperiment.LastK(Log(timestamps: false), "plain.csv", new RecsSplitOptions()));
        Assert.StartsWith("plain.csv has no timestamp column", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KnownUsers_ScoresKnownTestUsersOnTheirNewItems_AndCountsWhatItLeftOut()
    {
        var train = Log(items: 21);
        var builder = new InteractionLogBuilder(train.Users, train.Items);
        builder.Add("u0", "i24"); // new to u0
        builder.Add("u0", "i0"); // seen in training
        builder.Add("u1", "i1"); // u1 has nothing new
        builder.Add("stranger", "i2");
        var experiment = RecsExperiment.KnownUsers(train, builder.Build(), "train.csv", "later.csv");
        Assert.Equal("known users of later.csv after train.csv", experiment.Description);
        var user = Assert.Single(experiment.Users);
        Assert.Equal(0, user.User);
        Assert.Equal(train.ToMatrix().NonZeros, experiment.Train.NonZeros);
        Assert.Equal(new RecsSplitSettings { Train = "train.csv", Test = "later.csv", UnknownTestUsers = 1, UsersWithNothingNew = 1, SeenTestPairs = 2 }, experiment.Settings);
    }

    [Fact]
    public void FoldInNewUsers_TrainsOnTheWholeTrainingLog_AndFoldsInTheNewUsers()
    {
        var train = Log(items: 27);
        var test = Log(users: 12, prefix: "u", knownItems: train.Items, items: 30);
        var experiment = RecsExperiment.FoldInNewUsers(train, test, "train.csv", "new.csv", new RecsSplitOptions { FoldInFraction = 0.5 });
        Assert.Equal(RecsProtocol.FoldIn, experiment.Protocol);
        Assert.True(experiment.FoldsIn);
        Assert.Equal(train.Count, experiment.Train.NonZeros);
        Assert.Equal(12, experiment.Users.Count);
        Assert.All(experiment.Users, user => Assert.Equal(5, user.Known.Length));
        Assert.Equal(12, experiment.Settings.TestUserCount);
        Assert.Equal(3, experiment.Settings.UnknownTestItems); // i27, i28 and i29
        Assert.IsType<AlsFoldInRecommender>(experiment.Recommender(Model(experiment.Train)));
    }

    [Fact]
    public void FoldInNewUsers_RefusesALogNotReadWithTheTrainingItems()
    {
        var train = Log();
        var test = Log(users: 5, prefix: "n", knownItems: IdMap.Create(["other"]));
        Assert.Throws<ArgumentException>(() => RecsExperiment.FoldInNewUsers(train, test, "a", "b", new RecsSplitOptions()));
    }

    [Fact]
    public void FoldInHeldOutUsers_TrainsWithoutTheHeldOutUsers_AndEvaluatesOnlyThem()
    {
        var log = Log(users: 300);
        var experiment = RecsExperiment.FoldInHeldOutUsers(log, "all.csv", new RecsSplitOptions { TestUserFraction = 0.2, FoldInFraction = 0.5, Seed = 9 });
        Assert.Equal("fold-in of held-out users of all.csv", experiment.Description);
        Assert.InRange(experiment.Users.Count, 30, 90);
        var trainRows = Enumerable.Range(0, log.Users.Count).Where(u => experiment.Train.ByUser.RowIndices(u).Length > 0).ToHashSet();
        Assert.Equal(300 - experiment.Users.Count, trainRows.Count);
        Assert.All(experiment.Users, user =>
        {
            Assert.DoesNotContain(user.User, trainRows);
            Assert.Equal(5, user.Known.Length);
            Assert.Equal(5, user.Relevant.Length);
        });
        Assert.Equal(0.2, experiment.Settings.TestUserFraction);
        Assert.Null(experiment.Settings.HoldoutFraction);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void BadFractions_Throw_NamingTheSetting_OnOneLine(double fraction)
    {
        var log = Log();
        var options = new RecsSplitOptions { HoldoutFraction = fraction, FoldInFraction = fraction, TestUserFraction = fraction };
        var holdout = Assert.Throws<ArgumentOutOfRangeException>(() => RecsExperiment.Holdout(log, "x", options));
        Assert.Contains("holdout fraction must be in (0, 1)", holdout.Message, StringComparison.Ordinal);
        var heldOut = Assert.Throws<ArgumentOutOfRangeException>(() => RecsExperiment.FoldInHeldOutUsers(log, "x", options));
        Assert.Contains("test-user fraction", heldOut.Message, StringComparison.Ordinal);
        var newUsers = Assert.Throws<ArgumentOutOfRangeException>(() => RecsExperiment.FoldInNewUsers(log, Log(5, prefix: "n", knownItems: log.Items), "a", "b", options));
        Assert.Contains("fold-in fraction", newUsers.Message, StringComparison.Ordinal);
        Assert.All(new[] { holdout, heldOut, newUsers }, e => Assert.DoesNotContain('\n', e.Message));
    }

    [Fact]
    public void BadCounts_Throw_AndUnusedSettingsAreNotChecked()
    {
        var log = Log();
        Assert.Contains("at least 1", Assert.Throws<ArgumentOutOfRangeException>(() => RecsExperiment.LastK(log, "x", new RecsSplitOptions { LastK = 0 })).Message, StringComparison.Ordinal);
        Assert.Contains("min train items", Assert.Throws<ArgumentOutOfRangeException>(() => RecsExperiment.Holdout(log, "x", new RecsSplitOptions { MinTrainItems = 0 })).Message, StringComparison.Ordinal);
        Assert.NotNull(RecsExperiment.Holdout(log, "x", new RecsSplitOptions { LastK = 0, FoldInFraction = 7 }));
    }

    internal static AlsModel Model(InteractionMatrix train) => AlsTrainer.Train(train, new AlsOptions { Factors = 4, Iterations = 2, Threads = 1 });
}
