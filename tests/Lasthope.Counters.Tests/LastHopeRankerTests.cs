using CsCheck;
using Lasthope.Counters;
using Microsoft.Extensions.Time.Testing;

namespace Lasthope.Counters.Tests;

public class LastHopeRankerTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    private static LastHopeRanker Create(HeuristicOptions? options = null)
    {
        var counters = new CtrCounters(new CounterOptions { PriorStrength = 10 }, new FakeTimeProvider(Now));
        return new LastHopeRanker(counters, options ?? new HeuristicOptions());
    }

    [Fact]
    public void Score_IsTheWeightedSumOfWeekTrendAndMonth()
    {
        var ranker = Create(new HeuristicOptions { WeekWeight = 2, TrendWeight = 3, MonthWeight = 0.5 });
        Assert.Equal((2 * 0.1) + (3 * 0.02) + (0.5 * 0.08), ranker.Score(new CtrEstimate(0.1, 0.08, 0.02, EstimateLevel.Segment)), 12);
    }

    [Fact]
    public void Rank_PutsHigherCtrFirst_AndReportsUnknownItems()
    {
        var ranker = Create();
        for (var i = 0; i < 100; i++)
        {
            ranker.Counters.RecordImpression("good", "S", Now, 1);
            ranker.Counters.RecordImpression("bad", "S", Now, 1);
        }

        for (var i = 0; i < 20; i++)
        {
            ranker.Counters.RecordClick("good", "S", Now, 1, 1);
        }

        string[] ids = ["bad", "new", "good"];
        var scores = new double[3];
        var summary = ranker.Score("S", ids, scores);
        var order = new int[3];
        LastHopeRanker.Order(ids, scores, order);
        Assert.Equal(["good", "new", "bad"], order.Select(i => ids[i]));
        Assert.Equal(1, summary.UnknownItems);
        Assert.False(summary.CountersEmpty);
    }

    [Fact]
    public void Rank_WithEmptyCounters_OrdersByItemIdDeterministically()
    {
        var ranker = Create();
        string[] ids = ["c", "a", "b"];
        var scores = new double[3];
        var summary = ranker.Score("S", ids, scores);
        Assert.True(summary.CountersEmpty);
        Assert.Equal(3, summary.UnknownItems);
        var order = new int[3];
        LastHopeRanker.Order(ids, scores, order);
        Assert.Equal(["a", "b", "c"], order.Select(i => ids[i]));
    }

    [Fact]
    public void Order_IsAPermutationSortedByScoreThenId()
    {
        Gen.Select(Gen.Int[0, 5].Array[1, 60], Gen.Int[0, 1000].Array[60]).Sample((scoreBins, idSeeds) =>
        {
            var n = scoreBins.Length;
            var ids = Enumerable.Range(0, n).Select(i => $"item{idSeeds[i]}-{i}").ToArray();
            var scores = scoreBins.Select(s => s / 10.0).ToArray();
            var order = new int[n];
            LastHopeRanker.Order(ids, scores, order);
            Assert.Equal(Enumerable.Range(0, n), order.Order());
            for (var k = 1; k < n; k++)
            {
                var (prev, next) = (order[k - 1], order[k]);
                Assert.True(scores[prev] > scores[next] || (scores[prev] == scores[next] && string.CompareOrdinal(ids[prev], ids[next]) < 0));
            }
        });
    }

    [Fact]
    public void OrderTop_PutsExactlyTheBestTopItemsFirst_InTheFullOrder()
    {
        Gen.Select(Gen.Int[0, 8].Array[1, 300], Gen.Int[0, 300]).Sample((scoreBins, top) =>
        {
            var n = scoreBins.Length;
            var ids = Enumerable.Range(0, n).Select(i => $"item{(i * 7919) % 1000:D4}-{i}").ToArray();
            var scores = scoreBins.Select(s => s / 10.0).ToArray();
            var full = new int[n];
            LastHopeRanker.Order(ids, scores, full);
            var partial = new int[n];
            var k = Math.Min(top, n);
            LastHopeRanker.Order(ids, scores, partial, k);
            Assert.Equal(full.Take(k), partial.Take(k));
            Assert.Equal(Enumerable.Range(0, n), partial.Order());
        });
    }

    [Fact]
    public void Version_NamesTheCoefficients()
    {
        var ranker = Create(new HeuristicOptions { WeekWeight = 1, TrendWeight = 0.25, MonthWeight = 0.05 });
        Assert.Equal("ctr-v1(week=1,trend=0.25,month=0.05,prior=10,debias=off)", ranker.Version);
    }
}
