using CsCheck;
using Lasthope.Evaluation;

namespace Lasthope.Evaluation.Tests;

public class CoverageAndVerdictTests
{
    /// <summary>Recommends a fixed list per evaluation user (by <see cref="EvaluationUser.User"/>).</summary>
    private sealed class Listed(int[][] lists, string name = "listed") : ITopKRecommender
    {
        public string Name => name;

        public int Recommend(EvaluationUser user, Span<int> destination)
        {
            var list = lists[user.User];
            var n = Math.Min(list.Length, destination.Length);
            list.AsSpan(0, n).CopyTo(destination);
            return n;
        }
    }

    private static EvaluationUser[] Users(int n) => [.. Enumerable.Range(0, n).Select(u => new EvaluationUser(u, [], [], [0]))];

    [Fact]
    public void CoverageIntervals_ContainTheirEstimates()
    {
        // Any lists, any number of users, any cut-offs: the model's, the baseline's and the difference's coverage
        // intervals all hold their estimate (a resampling interval of a union can otherwise fall below it).
        var list = Gen.Int[0, 39].Array[0, 8].Select(items => items.Distinct().ToArray());
        Gen.Select(list.Array[1, 40], list.Array[40], Gen.Int[1, 8], Gen.Int[0, 1000]).Sample((model, baseline, k, seed) =>
        {
            var options = new RecsEvaluationOptions { CatalogueSize = 40, Ks = [1, k], Resamples = 50, Seed = seed, Threads = 1 };
            var report = RecsEvaluation.Compare(Users(model.Length), new Listed(model), new Listed(baseline), options);
            foreach (var c in report.Metrics.Where(m => m.Metric == RecsMetrics.Coverage))
            {
                foreach (var interval in new[] { c.Model, c.Baseline, c.Difference })
                {
                    Assert.InRange(interval.Estimate, interval.Lower, interval.Upper);
                }
            }
        }, iter: 200);
    }

    [Fact]
    public void Coverage_OfListsThatNeverOverlap_HasAnIntervalCentredOnItsEstimate()
    {
        // Every user brings items of their own. Resampling users with repeats saw about 0.632 n distinct users, so
        // every resample covered less and the whole interval fell below the estimate; here it is centred on it.
        var lists = Enumerable.Range(0, 100).Select(u => new[] { 3 * u, (3 * u) + 1, (3 * u) + 2 }).ToArray();
        var report = RecsEvaluation.Compare(Users(100), new Listed(lists), new Listed(lists), new RecsEvaluationOptions { CatalogueSize = 600, Ks = [3], Resamples = 100 });
        var coverage = report.Get(RecsMetrics.Coverage, 3).Model;
        Assert.Equal(0.5, coverage.Estimate, 12);
        Assert.True(coverage.Upper > 0.5, coverage.ToString());
        Assert.Equal(coverage.Upper - 0.5, 0.5 - coverage.Lower, 12);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    public void CoverageInterval_HoldsTheExpectedCoverage_InAboutTheNominalShareOfSamples(int groups)
    {
        // A population whose users get lists from a skewed catalogue: draw 150 users, compute coverage@5 and its
        // interval, repeat 150 times; the true expected coverage of 150 users (from 3000 other draws) must fall
        // inside in about 95% of repetitions (the intervals are somewhat conservative: 96-99% here). With several
        // groups, each user's list comes from the group's own ordering of the catalogue, so items are correlated
        // through the users who share a group.
        const int Catalogue = 400, N = 150, K = 5;
        var orderings = Enumerable.Range(0, groups).Select(g => g == 0 ? Enumerable.Range(0, Catalogue).ToArray() : [.. Enumerable.Range(0, Catalogue).OrderBy(i => new Random(g * 7919 + i).Next())]).ToArray();
        var weights = Enumerable.Range(0, Catalogue).Select(i => 1.0 / Math.Pow(i + 3, 1.1)).ToArray();
        var cdf = new double[Catalogue];
        var total = 0.0;
        for (var i = 0; i < Catalogue; i++)
        {
            total += weights[i];
            cdf[i] = total;
        }

        int[] DrawList(Random random)
        {
            var ordering = orderings[random.Next(groups)];
            var chosen = new HashSet<int>();
            while (chosen.Count < K)
            {
                var index = Array.BinarySearch(cdf, random.NextDouble() * total);
                chosen.Add(ordering[Math.Min(index < 0 ? ~index : index, Catalogue - 1)]);
            }

            return [.. chosen];
        }

        double CoverageOf(int[][] lists) => (double)lists.SelectMany(l => l).Distinct().Count() / Catalogue;

        var truthRandom = new Random(1);
        var truth = Enumerable.Range(0, 3000).Select(_ => CoverageOf([.. Enumerable.Range(0, N).Select(_ => DrawList(truthRandom))])).Average();

        var random = new Random(2);
        var held = 0;
        const int Repetitions = 150;
        for (var r = 0; r < Repetitions; r++)
        {
            var lists = Enumerable.Range(0, N).Select(_ => DrawList(random)).ToArray();
            var report = RecsEvaluation.Compare(Users(N), new Listed(lists), new Listed(lists), new RecsEvaluationOptions { CatalogueSize = Catalogue, Ks = [K], Resamples = 200, Seed = r, Threads = 2 });
            var coverage = report.Get(RecsMetrics.Coverage, K).Model;
            Assert.Equal(CoverageOf(lists), coverage.Estimate, 12);
            held += coverage.Lower <= truth && truth <= coverage.Upper ? 1 : 0;
        }

        Assert.InRange((double)held / Repetitions, 0.88, 1.0);
    }

    [Fact]
    public void AboveTheBaseline_FollowsThePairedDifference_NotTheOverlapOfTheSeparateIntervals()
    {
        // P@1 of a model and a baseline whose separate intervals overlap, with the paired difference above zero.
        var comparison = new MetricComparison(
            RecsMetrics.Precision, 1,
            Model: new Interval(0.312, 0.281, 0.344, 0.95),
            Baseline: new Interval(0.264, 0.236, 0.293, 0.95),
            Difference: new Interval(0.048, 0.0159, 0.0796, 0.95));
        Assert.True(comparison.Model.Lower < comparison.Baseline.Upper);
        Assert.True(comparison.ModelAboveBaseline);
        Assert.False(comparison.ModelBelowBaseline);

        var unclear = comparison with { Difference = new Interval(0.048, -0.002, 0.0796, 0.95) };
        Assert.False(unclear.ModelAboveBaseline);
        Assert.False(unclear.ModelBelowBaseline);
        Assert.True((comparison with { Difference = new Interval(-0.05, -0.08, -0.01, 0.95) }).ModelBelowBaseline);
    }

    [Fact]
    public void Compare_ReadsAModelThatWinsOnAFewUsersAsAbove_ThoughTheSeparateIntervalsOverlap()
    {
        // 400 users; the baseline hits for a random half of them; the model hits for the same users and for 30 more.
        var random = new Random(3);
        var users = Enumerable.Range(0, 400).Select(u => new EvaluationUser(u, [], [], [1])).ToArray();
        var baselineHits = Enumerable.Range(0, 400).Select(_ => random.NextDouble() < 0.5).ToArray();
        var modelHits = baselineHits.Select((h, u) => h || u % 13 == 0).ToArray();
        var model = modelHits.Select(h => h ? new[] { 1 } : [2]).ToArray();
        var baseline = baselineHits.Select(h => h ? new[] { 1 } : [2]).ToArray();
        var report = RecsEvaluation.Compare(users, new Listed(model), new Listed(baseline), new RecsEvaluationOptions { CatalogueSize = 3, Ks = [1], Resamples = 1000 });
        var precision = report.Get(RecsMetrics.Precision, 1);
        Assert.True(precision.Model.Lower < precision.Baseline.Upper, $"{precision.Model} vs {precision.Baseline}: the separate intervals should overlap here");
        Assert.True(precision.Difference.Lower > 0, precision.Difference.ToString());
        Assert.True(precision.ModelAboveBaseline);
    }

    [Fact]
    public void NormalQuantile_MatchesKnownValues()
    {
        Assert.Equal(1.959963984540, Bootstrap.NormalQuantile(0.975), 7);
        Assert.Equal(0, Bootstrap.NormalQuantile(0.5), 12);
        Assert.Equal(-2.326347874041, Bootstrap.NormalQuantile(0.01), 7);
        Assert.Equal(3.090232306168, Bootstrap.NormalQuantile(0.999), 7);
    }

    [Fact]
    public void FromTrainTest_EvaluatesKnownUsersOnTheirNewItems_AndCountsWhatItLeavesOut()
    {
        // Users 0-2 trained; user 3 appears only in the test part. User 0 sees item 5 again (left out) and item 7 new;
        // user 1 only repeats item 2; user 2 has two new items.
        int[] trainUsers = [0, 0, 1, 1, 2];
        int[] trainItems = [5, 6, 2, 3, 4];
        float[] trainWeights = [1, 2, 1, 1, 3];
        int[] testUsers = [0, 0, 1, 2, 2, 3, 0];
        int[] testItems = [5, 7, 2, 8, 9, 1, 7];
        var split = EvaluationUser.FromTrainTest(trainUsers, trainItems, trainWeights, testUsers, testItems);
        Assert.Equal([0, 2], split.Users.Select(u => u.User));
        Assert.Equal([5, 6], split.Users[0].Known);
        Assert.Equal([1f, 2f], split.Users[0].KnownWeights);
        Assert.Equal([7], split.Users[0].Relevant);
        Assert.Equal([8, 9], split.Users[1].Relevant);
        Assert.Equal(1, split.UnknownUsers);
        Assert.Equal(1, split.UsersWithNothingNew);
        Assert.Equal(2, split.SeenPairs);
    }
}
