using Lasthope.Evaluation;
using Lasthope.Factors;

namespace Lasthope.Factors.Tests;

public class AlsRecommendationsTests
{
    private static readonly (InteractionMatrix Data, int[] UserCluster, int[] ItemCluster) Planted = TestMatrices.Planted(users: 60, items: 30, clusters: 3, density: 0.5, seed: 11);

    private static readonly AlsModel Model = AlsTrainer.Train(Planted.Data, new AlsOptions { Factors = 8, Regularization = 5f, Alpha = 10f, Iterations = 10 });

    [Fact]
    public void ForUser_ServesAKnownUserFromALS_WithoutTheirItemsOrTheExclusions()
    {
        var popular = AlsRecommendations.Popularity(Model);
        var seen = Planted.Data.ByUser.RowIndices(0).ToArray().Select(i => Model.Items[i]).ToHashSet();
        var result = AlsRecommendations.ForUser(Model, popular, "u0", 5, ["i3"], filterSeen: true, []);
        Assert.Equal(RecommendationSource.Als, result.Source);
        Assert.False(result.FoldedIn);
        Assert.Equal(5, result.Items.Count);
        Assert.All(result.Items, r =>
        {
            Assert.DoesNotContain(r.ItemId, seen);
            Assert.NotEqual("i3", r.ItemId);
        });
        Assert.Equal(Model.Recommend("u0", 5, ["i3"]).Select(r => r.ItemId), result.Items.Select(r => r.ItemId));
    }

    [Fact]
    public void ForUser_FoldsInAnUnknownUser_AndFallsBackToPopularity_WhenNothingIsKnown()
    {
        var popular = AlsRecommendations.Popularity(Model);
        var folded = AlsRecommendations.ForUser(Model, popular, "new", 3, [], true, [new("i1", 1f), new("i4", 1f), new("nope", 1f)]);
        Assert.Equal(RecommendationSource.Als, folded.Source);
        Assert.True(folded.FoldedIn);
        Assert.Equal(1, folded.UnknownItems);
        Assert.All(folded.Items, r => Assert.Equal(1, int.Parse(r.ItemId[1..], System.Globalization.CultureInfo.InvariantCulture) % 3));
        Assert.DoesNotContain(folded.Items, r => r.ItemId is "i1" or "i4");

        var stranger = AlsRecommendations.ForUser(Model, popular, "stranger", 4, [], true, [new("nope", 1f)]);
        Assert.Equal(RecommendationSource.Popular, stranger.Source);
        Assert.Equal("popular", stranger.SourceName);
        Assert.Equal(popular.TopN(null, 4).Select(r => r.ItemId), stranger.Items.Select(r => r.ItemId));
    }

    [Fact]
    public void Batch_GivesEveryUserWhatTheSingleUserPathGives_InOrder_WhateverTheThreads()
    {
        var popular = AlsRecommendations.Popularity(Model);
        var requests = Enumerable.Range(0, 700).Select(u => u % 7 == 0
            ? new RecommendationRequest($"x{u}", [new($"i{u % 30}", 1f)])
            : new RecommendationRequest($"u{u % 60}", [])).ToArray();
        var one = AlsRecommendations.Batch(Model, requests, 4, threads: 1);
        var two = AlsRecommendations.Batch(Model, requests, 4, threads: 2);
        Assert.Equal(requests.Select(r => r.User), one.Select(r => r.User));
        for (var k = 0; k < requests.Length; k++)
        {
            var expected = AlsRecommendations.ForUser(Model, popular, requests[k].User, 4, [], true, requests[k].Interactions);
            Assert.Equal(expected.Items, one[k].Items);
            Assert.Equal(expected.Items, two[k].Items);
            Assert.Equal(expected.Source, two[k].Source);
        }
    }

    [Fact]
    public void WriteBatch_StreamsTheRowsOfEveryUser_InOrder_AcrossChunks_AndCountsEachPath()
    {
        // More users than one chunk holds, so rows of several chunks follow each other; some users are unknown and
        // list nothing the model knows (popular items), some are folded in, the rest are known.
        var popular = AlsRecommendations.Popularity(Model);
        var requests = Enumerable.Range(0, AlsRecommendations.BatchChunk + 900).Select(u => (u % 11) switch
        {
            0 => new RecommendationRequest($"x{u}", [new($"i{u % 30}", 1f)]),
            1 => new RecommendationRequest($"stranger{u}", [new("nope", 1f)]),
            _ => new RecommendationRequest($"u{u % 60}", []),
        }).ToArray();
        var expected = new StringWriter();
        AlsRecommendations.WriteCsv(expected, requests.Select(r => AlsRecommendations.ForUser(Model, popular, r.User, 4, ["i2"], true, r.Interactions)));
        var reported = new List<int>();
        var streamed = new StringWriter();
        var summary = AlsRecommendations.WriteBatch(Model, requests, 4, streamed, ["i2"], threads: 2, progress: new Collect(reported));
        Assert.Equal(expected.ToString(), streamed.ToString());
        Assert.Equal([AlsRecommendations.BatchChunk, requests.Length], reported);
        Assert.Equal(requests.Length, summary.Users);
        Assert.Equal(requests.Count(r => r.User.StartsWith('x')), summary.FoldedIn);
        Assert.Equal(requests.Count(r => r.User.StartsWith('s')), summary.Unknown);
        Assert.Equal(summary.Users - summary.FoldedIn - summary.Unknown, summary.Known);
        Assert.Equal(4L * requests.Length, summary.Rows);
        Assert.Equal(requests.Where(r => r.User.StartsWith('s')).Take(BatchSummary.MaxUnknownIds).Select(r => r.User), summary.UnknownIds);
        Assert.DoesNotContain(",i2,", streamed.ToString(), StringComparison.Ordinal);
    }

    /// <summary>Records reports synchronously (<see cref="Progress{T}"/> would post them to the thread pool).</summary>
    private sealed class Collect(List<int> values) : IProgress<int>
    {
        public void Report(int value) => values.Add(value);
    }

    [Fact]
    public void ReadUsers_MergesAUsersLines_SkipsAHeaderAndBlankLines_AndRefusesABadWeight()
    {
        var users = AlsRecommendations.ReadUsers(new StringReader("user_id,item,weight\nb\n\na,k1\nb,k2,2.5\na,k3,1\n"));
        Assert.Equal(["b", "a"], users.Select(u => u.User));
        Assert.Equal([new("k2", 2.5f)], users[0].Interactions);
        Assert.Equal([new("k1", 1f), new("k3", 1f)], users[1].Interactions);
        var e = Assert.Throws<FormatException>(() => AlsRecommendations.ReadUsers(new StringReader("a,k1,heavy\n")));
        Assert.Contains("Line 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadUsers_ReadsQuotedIds_ThatHoldCommasAndLineBreaks()
    {
        var users = AlsRecommendations.ReadUsers(new StringReader("\"a,b\",\"k\n1\",2\n"));
        Assert.Equal(["a,b"], users.Select(u => u.User));
        Assert.Equal([new("k\n1", 2f)], users[0].Interactions);
    }

    [Fact]
    public void WriteCsv_WritesOneRowPerItem_WithRanksFromOne_AndQuotesIdsThatNeedIt()
    {
        var writer = new StringWriter();
        AlsRecommendations.WriteCsv(writer, [new UserRecommendations("a,b", RecommendationSource.Popular, false, 0, [new("x", 0.5f), new("say \"hi\"", 0.25f)])]);
        Assert.Equal("user,item,rank,score,source\n\"a,b\",x,1,0.5,popular\n\"a,b\",\"say \"\"hi\"\"\",2,0.25,popular\n", writer.ToString().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void KnownUserProtocol_EvaluatesTheTestUsersTheModelKnows()
    {
        var trainBuilder = new InteractionLogBuilder();
        trainBuilder.Add("a", "x");
        trainBuilder.Add("a", "y");
        trainBuilder.Add("b", "y");
        var train = trainBuilder.Build();
        var testBuilder = new InteractionLogBuilder(train.Users, train.Items);
        testBuilder.Add("a", "z");
        testBuilder.Add("a", "x");
        testBuilder.Add("c", "x");
        var (matrix, split) = KnownUserProtocol.Create(train, testBuilder.Build());
        Assert.Equal(2, matrix.Users.Count);
        var user = Assert.Single(split.Users);
        Assert.Equal(train.Users.GetIndex("a"), user.User);
        Assert.Equal([2], user.Relevant);
        Assert.Equal(1, split.UnknownUsers);
        Assert.Equal(1, split.SeenPairs);

        var apart = new InteractionLogBuilder();
        apart.Add("z", "x");
        Assert.Throws<ArgumentException>(() => KnownUserProtocol.Create(train, apart.Build()));
    }
}
