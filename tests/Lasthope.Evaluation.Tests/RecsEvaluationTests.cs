using Lasthope.Evaluation;

namespace Lasthope.Evaluation.Tests;

public class RecsEvaluationTests
{
    /// <summary>Returns the user's relevant items first: every metric at its best.</summary>
    private sealed class Oracle : ITopKRecommender
    {
        public string Name => "oracle";

        public int Recommend(EvaluationUser user, Span<int> destination)
        {
            var n = Math.Min(destination.Length, user.Relevant.Length);
            user.Relevant.AsSpan(0, n).CopyTo(destination);
            return n;
        }
    }

    /// <summary>Always the same items 0, 1, 2, ... skipping known ones.</summary>
    private sealed class Fixed : ITopKRecommender
    {
        public string Name => "fixed";

        public int Recommend(EvaluationUser user, Span<int> destination)
        {
            var n = 0;
            for (var item = 0; n < destination.Length && item < 100; item++)
            {
                if (Array.BinarySearch(user.Known, item) < 0)
                {
                    destination[n++] = item;
                }
            }

            return n;
        }
    }

    private static IReadOnlyList<EvaluationUser> Users()
    {
        var random = new Random(5);
        return Enumerable.Range(0, 200).Select(u =>
        {
            var relevant = Enumerable.Range(0, 3).Select(_ => 10 + random.Next(90)).Distinct().Order().ToArray();
            return new EvaluationUser(u, [0], [1f], relevant);
        }).ToList();
    }

    [Fact]
    public void Compare_ReportsEveryMetricAtEveryK_WithTheModelAboveABadBaseline()
    {
        var options = new RecsEvaluationOptions { CatalogueSize = 100, Ks = [1, 5], Resamples = 200 };
        var report = RecsEvaluation.Compare(Users(), new Oracle(), new Fixed(), options);
        Assert.Equal(RecsMetrics.All.Count * 2, report.Metrics.Count);
        Assert.Equal(200, report.Users);
        Assert.Equal(1.0, report.Get(RecsMetrics.Ndcg, 5).Model.Estimate, 12);
        Assert.Equal(1.0, report.Get(RecsMetrics.Recall, 5).Model.Estimate, 12);
        Assert.Equal(1.0, report.Get(RecsMetrics.Precision, 1).Model.Estimate, 12);
        Assert.Equal(0.0, report.Get(RecsMetrics.Precision, 5).Baseline.Estimate, 12); // items 1..5 are never relevant
        Assert.True(report.Get(RecsMetrics.Map, 5).ModelAboveBaseline);
        Assert.True(report.Get(RecsMetrics.Ndcg, 5).Difference.Lower > 0);

        // The fixed baseline covers exactly items 1..5 at k = 5.
        var coverage = report.Get(RecsMetrics.Coverage, 5);
        Assert.Equal(0.05, coverage.Baseline.Estimate, 12);
        Assert.Equal(0.05, coverage.Baseline.Lower, 12);
        Assert.InRange(coverage.Model.Estimate, coverage.Model.Lower, coverage.Model.Upper);
    }

    [Fact]
    public void Compare_ReportsTheMeanOfPerUserValues_WithAnIntervalAroundIt()
    {
        var users = Users();
        var options = new RecsEvaluationOptions { CatalogueSize = 100, Ks = [3], Resamples = 300 };
        var report = RecsEvaluation.Compare(users, new Fixed(), new Oracle(), options);
        var expected = users.Select(u => TopKMetrics.Recall([1, 2, 3], u.Relevant, 3)).Average();
        var recall = report.Get(RecsMetrics.Recall, 3).Model;
        Assert.Equal(expected, recall.Estimate, 12);
        Assert.InRange(recall.Estimate, recall.Lower, recall.Upper);
        Assert.Equal(0.95, recall.Level);
    }

    [Fact]
    public void Compare_DoesNotDependOnTheThreadCount()
    {
        var users = Users();
        var one = RecsEvaluation.Compare(users, new Oracle(), new Fixed(), new RecsEvaluationOptions { CatalogueSize = 100, Ks = [2, 4], Resamples = 100, Threads = 1 });
        var two = RecsEvaluation.Compare(users, new Oracle(), new Fixed(), new RecsEvaluationOptions { CatalogueSize = 100, Ks = [2, 4], Resamples = 100, Threads = 2 });
        Assert.Equal(one.Metrics, two.Metrics);
    }

    [Fact]
    public void Mean_IsThePlainMeanOfTheMetric()
    {
        var users = Users();
        var options = new RecsEvaluationOptions { CatalogueSize = 100 };
        Assert.Equal(1.0, RecsEvaluation.Mean(users, new Oracle(), RecsMetrics.Ndcg, 10, options), 12);
        Assert.Equal(0.03, RecsEvaluation.Mean(users, new Fixed(), RecsMetrics.Coverage, 3, options), 12);
        Assert.Throws<ArgumentException>(() => RecsEvaluation.Mean(users, new Fixed(), "auc", 3, options));
    }
}
