using Lasthope.Counters;
using Microsoft.Extensions.Time.Testing;

namespace Lasthope.Counters.Tests;

public class CtrCountersTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 10, 12, 0, 0, TimeSpan.Zero);

    private static (CtrCounters Counters, FakeTimeProvider Clock) Create(double priorStrength = 10, bool debias = false, PositionCurve? curve = null)
    {
        var clock = new FakeTimeProvider(Now);
        var options = new CounterOptions { PriorStrength = priorStrength, BaseCtr = 0.02, PositionDebiasing = debias };
        return (new CtrCounters(options, clock, curve), clock);
    }

    private static void Impressions(CtrCounters counters, string item, string segment, DateTimeOffset time, int count, int position = 1)
    {
        for (var i = 0; i < count; i++)
        {
            counters.RecordImpression(item, segment, time, position);
        }
    }

    private static void Clicks(CtrCounters counters, string item, string segment, DateTimeOffset time, double count, int? position = 1)
    {
        for (var i = 0; i < (int)count; i++)
        {
            counters.RecordClick(item, segment, time, 1, position);
        }

        if (count % 1 != 0)
        {
            counters.RecordClick(item, segment, time, count % 1, position);
        }
    }

    [Fact]
    public void Estimate_MatchesHandComputedEmpiricalBayesShrinkage()
    {
        // Hand-computed with m = 10, BaseCtr = 0.02 (see the formulas on CtrCounters):
        // A in S: 100 impressions, 10 clicks; B in S: 100 impressions, 2 clicks; A in T: 50 impressions, 0 clicks.
        var (counters, _) = Create();
        Impressions(counters, "A", "S", Now, 100);
        Clicks(counters, "A", "S", Now, 10);
        Impressions(counters, "B", "S", Now, 100);
        Clicks(counters, "B", "S", Now, 2);
        Impressions(counters, "A", "T", Now, 50);

        var inS = counters.BeginEstimation("S");
        var inT = counters.BeginEstimation("T");
        Assert.Equal(0.04692307692307692, inS.Global7d, 12);
        Assert.Equal(0.05937728937728938, inS.Segment7d, 12);
        Assert.Equal(0.00782051282051282, inT.Segment7d, 12);

        var aInS = counters.Estimate(inS, "A");
        Assert.Equal(0.09843633484002337, aInS.Ctr7d, 12);
        Assert.Equal(aInS.Ctr7d, aInS.Ctr30d, 12); // all data is inside both windows
        Assert.Equal(EstimateLevel.Segment, aInS.Level);

        var aInT = counters.Estimate(inT, "A");
        Assert.Equal(0.0018175747863247865, aInT.Ctr7d, 12);

        // B has no data in T: it backs off to its overall rate scaled to T.
        var bInT = counters.Estimate(inT, "B");
        Assert.Equal(0.0037412587412587414, bInT.Ctr7d, 12);
        Assert.Equal(EstimateLevel.Item, bInT.Level);
    }

    [Fact]
    public void Estimate_OfUnknownItem_IsTheSegmentsOverallCtr()
    {
        var (counters, _) = Create();
        Impressions(counters, "A", "S", Now, 100);
        Clicks(counters, "A", "S", Now, 10);
        Impressions(counters, "B", "S", Now, 100);
        Clicks(counters, "B", "S", Now, 2);
        Impressions(counters, "A", "T", Now, 50);

        var context = counters.BeginEstimation("S");
        var unknown = counters.Estimate(context, "never-seen");
        Assert.Equal(EstimateLevel.Prior, unknown.Level);
        Assert.Equal(0.05937728937728938, unknown.Ctr7d, 12);
        Assert.Equal(0, unknown.Trend, 12);
    }

    [Fact]
    public void Estimate_ForUnknownSegment_UsesTheItemsOverallRate()
    {
        var (counters, _) = Create();
        Impressions(counters, "A", "S", Now, 100);
        Clicks(counters, "A", "S", Now, 10);
        Impressions(counters, "A", "T", Now, 50);
        var context = counters.BeginEstimation("unknown");
        var estimate = counters.Estimate(context, "A");
        var g = (10 + (10 * 0.02)) / 160.0;
        Assert.Equal((10 + (10 * g)) / 160.0, estimate.Ctr7d, 12);
    }

    [Fact]
    public void Estimate_WithNoDataAtAll_IsTheBaseCtr_AndReportsEmptyCounters()
    {
        var (counters, _) = Create();
        var context = counters.BeginEstimation("S");
        Assert.True(context.CountersEmpty);
        var estimate = counters.Estimate(context, "x");
        Assert.Equal(0.02, estimate.Ctr7d, 12);
        Assert.Equal(0.02, estimate.Ctr30d, 12);
        Assert.Equal(EstimateLevel.Prior, estimate.Level);
    }

    [Fact]
    public void Trend_IsTheLast3Point5DaysAgainstThePrevious3Point5()
    {
        // 100 impressions a day for 7 days. Clicks: 10 a day for the 3 newest days, 5 on the middle day (age 3),
        // none before. The middle day counts half to each half: recent = 350 impressions and 32.5 clicks, older =
        // 350 impressions and 2.5 clicks. Both halves shrink towards the same 7-day rate p with m = 10, so
        // trend = (32.5 + 10p)/360 - (2.5 + 10p)/360 = 30/360, whatever p is.
        var (counters, _) = Create();
        for (var age = 0; age < 7; age++)
        {
            var day = Now.AddDays(-age);
            Impressions(counters, "A", "S", day, 100);
            Clicks(counters, "A", "S", day, age switch { < 3 => 10, 3 => 5, _ => 0 });
        }

        var estimate = counters.Estimate(counters.BeginEstimation("S"), "A");
        Assert.Equal(30.0 / 360.0, estimate.Trend, 12);
    }

    [Fact]
    public void Windows_CountTenDayOldEventsInTheMonthOnly_AndDropEventsOlderThanTheMonth()
    {
        var (counters, _) = Create(priorStrength: 1e-9);
        Impressions(counters, "A", "S", Now, 100);
        Clicks(counters, "A", "S", Now, 10);
        Impressions(counters, "A", "S", Now.AddDays(-10), 100);
        Clicks(counters, "A", "S", Now.AddDays(-10), 30);
        counters.RecordImpression("A", "S", Now.AddDays(-30), 1);

        var estimate = counters.Estimate(counters.BeginEstimation("S"), "A");
        Assert.Equal(0.10, estimate.Ctr7d, 6);
        Assert.Equal(0.20, estimate.Ctr30d, 6);
        Assert.Equal(1, counters.DroppedTooOld);
    }

    [Fact]
    public void LateEvents_LandInTheirOwnEventTimeBucket()
    {
        var (counters, clock) = Create(priorStrength: 1e-9);
        Impressions(counters, "A", "S", Now, 100);
        // A click that happened 8 days ago arrives now: it belongs to the month, not the week.
        Clicks(counters, "A", "S", Now.AddDays(-8), 10);
        Impressions(counters, "A", "S", Now.AddDays(-8), 100);
        var estimate = counters.Estimate(counters.BeginEstimation("S"), "A");
        Assert.Equal(0.0, estimate.Ctr7d, 6);
        Assert.Equal(0.05, estimate.Ctr30d, 6);

        // Out of order within the week: an event 2 days old after today's.
        Clicks(counters, "A", "S", Now.AddDays(-2), 5);
        Impressions(counters, "A", "S", Now.AddDays(-2), 100);
        estimate = counters.Estimate(counters.BeginEstimation("S"), "A");
        Assert.Equal(5 / 200.0, estimate.Ctr7d, 6);

        // Time passes: a week later the newest buckets have left the week; the month still holds all of them.
        clock.Advance(TimeSpan.FromDays(7));
        estimate = counters.Estimate(counters.BeginEstimation("S"), "A");
        Assert.Equal(15 / 300.0, estimate.Ctr30d, 6);
    }

    [Fact]
    public void Sweep_RemovesItemsWhoseBucketsLeftTheLongWindow_SoMemoryStaysBounded()
    {
        var (counters, clock) = Create();
        for (var i = 0; i < 1000; i++)
        {
            counters.RecordImpression($"item{i}", "S", Now, 1);
        }

        clock.Advance(TimeSpan.FromDays(20));
        counters.RecordImpression("fresh", "S", clock.GetUtcNow(), 1);
        Assert.Equal(0, counters.Sweep());
        Assert.Equal(1001, counters.ItemCount);

        clock.Advance(TimeSpan.FromDays(11));
        Assert.Equal(1000, counters.Sweep());
        Assert.Equal(1, counters.ItemCount);
        var context = counters.BeginEstimation("S");
        Assert.Equal(EstimateLevel.Prior, counters.Estimate(context, "item1").Level);
    }

    [Fact]
    public void RingRecycling_ForgetsBucketsFromTheSameSlotAMonthEarlier()
    {
        // The ring has 32 slots; bucket b and bucket b + 32 share a slot. Writing the newer one must not add to the older.
        var (counters, clock) = Create(priorStrength: 1e-9);
        Impressions(counters, "A", "S", Now, 10);
        Clicks(counters, "A", "S", Now, 10);
        clock.Advance(TimeSpan.FromDays(32));
        Impressions(counters, "A", "S", clock.GetUtcNow(), 10);
        var estimate = counters.Estimate(counters.BeginEstimation("S"), "A");
        Assert.Equal(0.0, estimate.Ctr30d, 6);
    }

    [Fact]
    public void PositionDebiasing_CreditsClicksAgainstExpectedClicks()
    {
        // With examination 0.5 at position 2, 5 clicks from 100 impressions there are as good as 10 from 100 at position 1.
        var curve = new PositionCurve([1.0, 0.5]);
        var (counters, _) = Create(priorStrength: 1e-9, debias: true, curve: curve);
        Impressions(counters, "A", "S", Now, 100, position: 1);
        Clicks(counters, "A", "S", Now, 10);
        Impressions(counters, "B", "S", Now, 100, position: 2);
        Clicks(counters, "B", "S", Now, 5, position: 2);
        var context = counters.BeginEstimation("S");
        var a = counters.Estimate(context, "A");
        var b = counters.Estimate(context, "B");
        Assert.Equal(0.10, a.Ctr7d, 6);
        Assert.Equal(0.10, b.Ctr7d, 6);

        var (raw, _) = Create(priorStrength: 1e-9, debias: false, curve: curve);
        Impressions(raw, "B", "S", Now, 100, position: 2);
        Clicks(raw, "B", "S", Now, 5, position: 2);
        Assert.Equal(0.05, raw.Estimate(raw.BeginEstimation("S"), "B").Ctr7d, 6);
    }

    [Fact]
    public void PositionTallies_CountImpressionsAndClicksPerPosition()
    {
        var (counters, _) = Create();
        Impressions(counters, "A", "S", Now, 10, position: 1);
        Impressions(counters, "A", "S", Now, 20, position: 3);
        Clicks(counters, "A", "S", Now, 2, position: 3);
        var tallies = counters.PositionTallies();
        Assert.Equal(10, tallies[0].Impressions);
        Assert.Equal(0, tallies[1].Impressions);
        Assert.Equal(20, tallies[2].Impressions);
        Assert.Equal(2, tallies[2].Clicks);
    }

    [Fact]
    public void Options_AreValidated_WithTheSettingNamed()
    {
        var error = Assert.Throws<ArgumentException>(() => CounterOptionsValidator.ThrowIfInvalid(new CounterOptions { ShortWindow = TimeSpan.FromHours(36) }));
        Assert.Contains("Counters:ShortWindow", error.Message, StringComparison.Ordinal);
        error = Assert.Throws<ArgumentException>(() => CounterOptionsValidator.ThrowIfInvalid(new CounterOptions { PriorStrength = double.NaN }));
        Assert.Contains("PriorStrength", error.Message, StringComparison.Ordinal);
    }
}
