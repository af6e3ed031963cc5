using CsCheck;
using Lasthope.Text.Barometer;

namespace Lasthope.Text.Tests;

/// <summary>The barometer's aggregation: known answers by hand, ISO weeks, gaps, intervals, smoothing and bounds.</summary>
public sealed class BarometerTests
{
    private static readonly BarometerOptions Weekly = new() { Period = BarometerPeriod.Week, SmoothingWindow = 2, Resamples = 500, Seed = 7 };

    private static BarometerRow R(int year, int month, int day, int polarity) => BarometerRow.Labelled(new DateOnly(year, month, day), polarity);

    /// <summary>2024-01-01 is a Monday, the first day of ISO week 2024-W01.</summary>
    private static BarometerRow[] HandMade() =>
    [
        R(2024, 1, 1, +1), R(2024, 1, 3, +1), R(2024, 1, 7, -1), R(2024, 1, 7, 0), // W01: 2 of 4 positive, 1 negative: +0.25
        R(2024, 1, 8, -1),                                                       // W02 (starts Monday the 8th): -1
                                                                                 // W03: no text
        R(2024, 1, 22, +1), R(2024, 1, 28, 0),                                   // W04: 1 of 2 positive: +0.5
    ];

    [Fact]
    public void Aggregate_GivesTheHandComputedCountsSharesAndIndex_PerIsoWeek()
    {
        var result = SentimentBarometer.Aggregate(HandMade(), Weekly);

        Assert.Equal(7, result.Texts);
        Assert.Equal(["2024-W01", "2024-W02", "2024-W03", "2024-W04"], result.Points.Select(p => p.Label));
        Assert.Equal([4, 1, 0, 2], result.Points.Select(p => p.Count));
        Assert.Equal([new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 8), new DateOnly(2024, 1, 15), new DateOnly(2024, 1, 22)], result.Points.Select(p => p.Start));
        Assert.Equal(new DateOnly(2024, 1, 7), result.Points[0].End);
        var w1 = result.Points[0];
        Assert.Equal(0.5, w1.PositiveShare);
        Assert.Equal(0.25, w1.NegativeShare);
        Assert.Equal(0.25, w1.Index);
        Assert.Equal(-1.0, result.Points[1].Index);
        Assert.Equal(0.0, result.Points[1].PositiveShare);
        Assert.Equal(0.5, result.Points[3].Index);
        Assert.Equal(0.0, result.Points[3].NegativeShare);
    }

    [Fact]
    public void Aggregate_SmoothsByTheCountWeightedTrailingWindow_OverCalendarPeriods()
    {
        var two = SentimentBarometer.Aggregate(HandMade(), Weekly).Points;
        Assert.Equal(0.25, two[0].Smoothed);          // W01 alone: (2 - 1) / 4
        Assert.Equal(0.0, two[1].Smoothed);           // W01-W02: (2 - 1 + 0 - 1) / 5
        Assert.Null(two[2].Smoothed);                 // a gap has no smoothed value ...
        Assert.Equal(1, two[2].SmoothedCount);        // ... though its window (W02-W03) holds one text
        Assert.Equal(0.5, two[3].Smoothed);           // W03-W04: the gap counts as one of the two weeks
        Assert.Equal([4, 5, 1, 2], two.Select(p => p.SmoothedCount));

        var three = SentimentBarometer.Aggregate(HandMade(), Weekly with { SmoothingWindow = 3 }).Points;
        Assert.Equal(0.0, three[3].Smoothed);         // W02-W04: (-1 + 0 + 1) / 3

        var none = SentimentBarometer.Aggregate(HandMade(), Weekly with { SmoothingWindow = 1 }).Points;
        Assert.All(none, p => Assert.Equal(p.Index, p.Smoothed));
    }

    [Fact]
    public void Aggregate_ShowsAPeriodWithoutTexts_AsAGapNotAZero()
    {
        var gap = SentimentBarometer.Aggregate(HandMade(), Weekly).Points[2];

        Assert.True(gap.IsGap);
        Assert.Equal("2024-W03", gap.Label);
        Assert.Equal(0, gap.Count);
        Assert.Null(gap.Index);
        Assert.Null(gap.PositiveShare);
        Assert.Null(gap.NegativeShare);
        Assert.Null(gap.Lower);
        Assert.Null(gap.Upper);

        var months = SentimentBarometer.Aggregate([R(2024, 1, 31, 1), R(2024, 3, 1, -1)], new BarometerOptions { Period = BarometerPeriod.Month });
        Assert.Equal(["2024-01", "2024-02", "2024-03"], months.Points.Select(p => p.Label));
        Assert.Equal(new DateOnly(2024, 2, 29), months.Points[1].End);
        Assert.True(months.Points[1].IsGap);
    }

    [Theory]
    [InlineData(2024, 12, 29, "2024-W52", 2024, 12, 23)] // a Sunday: the last day of its week
    [InlineData(2024, 12, 30, "2025-W01", 2024, 12, 30)] // a Monday in December that starts ISO 2025's first week
    [InlineData(2025, 1, 1, "2025-W01", 2024, 12, 30)]
    [InlineData(2021, 1, 3, "2020-W53", 2020, 12, 28)]   // a Sunday in January still in 2020's 53rd week
    [InlineData(2021, 1, 4, "2021-W01", 2021, 1, 4)]
    public void Week_StartsOnMonday_AndIsLabelledByItsIsoYearAndNumber(int y, int m, int d, string label, int sy, int sm, int sd)
    {
        var date = new DateOnly(y, m, d);
        var start = SentimentBarometer.PeriodStart(date, BarometerPeriod.Week);

        Assert.Equal(new DateOnly(sy, sm, sd), start);
        Assert.Equal(DayOfWeek.Monday, start.DayOfWeek);
        Assert.Equal(label, SentimentBarometer.Label(start, BarometerPeriod.Week));
        var point = Assert.Single(SentimentBarometer.Aggregate([BarometerRow.Labelled(date, 1)], new BarometerOptions()).Points);
        Assert.Equal(label, point.Label);
        Assert.Equal(start.AddDays(6), point.End);
    }

    [Fact]
    public void Aggregate_SplitsASundayAndTheNextMonday_IntoTwoWeeks()
    {
        var points = SentimentBarometer.Aggregate([R(2024, 1, 14, 1), R(2024, 1, 15, -1)], Weekly).Points;

        Assert.Equal(["2024-W02", "2024-W03"], points.Select(p => p.Label));
        Assert.Equal([1.0, -1.0], points.Select(p => p.Index!.Value));
    }

    [Fact]
    public void Interval_ContainsThePoint_AndNarrowsWithMoreTexts()
    {
        // The same shares (50% positive, 25% negative: index 0.25) from 20 texts and from 2,000.
        static BarometerRow[] Day(int day, int n) =>
            [.. Enumerable.Range(0, n).Select(i => BarometerRow.Labelled(new DateOnly(2024, 5, day), (i % 4) switch { 0 or 1 => 1, 2 => -1, _ => 0 }))];
        var points = SentimentBarometer.Aggregate([.. Day(1, 20), .. Day(2, 2_000)], new BarometerOptions { Period = BarometerPeriod.Day, Resamples = 2_000 }).Points;

        foreach (var p in points)
        {
            Assert.Equal(0.25, p.Index!.Value, 12);
            Assert.InRange(p.Index.Value, p.Lower!.Value, p.Upper!.Value);
            Assert.InRange(p.Lower.Value, -1, 1);
            Assert.InRange(p.Upper.Value, -1, 1);
        }

        var few = points[0].Upper!.Value - points[0].Lower!.Value;
        var many = points[1].Upper!.Value - points[1].Lower!.Value;
        // The standard error of the mean polarity (variance 0.6875) is 0.185 at n = 20 and 0.0185 at n = 2,000: the 95%
        // interval is about 3.92 of them wide, so about 0.73 and 0.073, ten times narrower.
        Assert.InRange(few, 0.55, 0.90);
        Assert.InRange(many, 0.06, 0.09);
    }

    [Fact]
    public void Aggregate_IsDeterministic_WhateverTheRowOrder()
    {
        var rows = HandMade().Concat(Enumerable.Range(0, 50).Select(i => R(2024, 1, 1 + (i % 28), (i % 3) - 1))).ToArray();
        var shuffled = rows.ToArray();
        new Random(3).Shuffle(shuffled);

        var a = SentimentBarometer.Aggregate(rows, Weekly);
        var b = SentimentBarometer.Aggregate(shuffled, Weekly);
        var other = SentimentBarometer.Aggregate(rows, Weekly with { Seed = 8 });

        Assert.Equal(a.Points, b.Points);
        Assert.NotEqual(a.Points.Select(p => p.Lower), other.Points.Select(p => p.Lower));
        Assert.Equal(a.Points.Select(p => p.Index), other.Points.Select(p => p.Index));
    }

    [Fact]
    public void Interval_OfAPeriod_DoesNotChangeWhenOtherPeriodsGetTexts()
    {
        var alone = SentimentBarometer.Aggregate(HandMade(), Weekly).Points;
        var more = SentimentBarometer.Aggregate([.. HandMade(), R(2023, 12, 1, 1), R(2024, 1, 15, -1)], Weekly).Points;

        var w1 = more.Single(p => p.Label == "2024-W01");
        Assert.Equal(alone[0].Lower, w1.Lower);
        Assert.Equal(alone[0].Upper, w1.Upper);
    }

    [Fact]
    public void Aggregate_OfNoRows_HasNoPoints()
    {
        var result = SentimentBarometer.Aggregate([], Weekly);

        Assert.Empty(result.Points);
        Assert.Equal(0, result.Texts);
    }

    [Fact]
    public void Aggregate_RefusesMoreRowsOrPeriodsThanItsBounds()
    {
        var rows = HandMade();

        var tooMany = Assert.Throws<BarometerInputException>(() => SentimentBarometer.Aggregate(rows, Weekly with { MaxRows = 6 }));
        Assert.Contains("7 texts", tooMany.Message, StringComparison.Ordinal);
        var tooLong = Assert.Throws<BarometerInputException>(() => SentimentBarometer.Aggregate([R(2000, 1, 1, 1), R(2024, 1, 1, 1)], new BarometerOptions { Period = BarometerPeriod.Day }));
        Assert.Contains("8,767 days", tooLong.Message, StringComparison.Ordinal);
        Assert.Equal(289, SentimentBarometer.Aggregate([R(2000, 1, 1, 1), R(2024, 1, 1, 1)], new BarometerOptions { Period = BarometerPeriod.Month }).Points.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => SentimentBarometer.Aggregate(rows, Weekly with { SmoothingWindow = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => SentimentBarometer.Aggregate(rows, Weekly with { Resamples = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => SentimentBarometer.Aggregate(rows, Weekly with { Level = 1 }));
        Assert.Throws<ArgumentException>(() => SentimentBarometer.Aggregate([new BarometerRow(new DateOnly(2024, 1, 1), 0.7, 0.6)], Weekly));
    }

    private static readonly Gen<BarometerRow> LabelledRow =
        Gen.Select(Gen.Int[0, 120], Gen.Int[-1, 1], (day, polarity) => BarometerRow.Labelled(new DateOnly(2024, 2, 20).AddDays(day), polarity));

    private static readonly Gen<BarometerRow> ExpectedRow =
        Gen.Select(Gen.Int[0, 120], Gen.Double[0, 1], Gen.Double[0, 1], (day, a, b) => new BarometerRow(new DateOnly(2024, 2, 20).AddDays(day), a, (1 - a) * b));

    [Fact]
    public void Index_LiesInMinusOneToOne_AndIsThePositiveMinusTheNegativeShare()
    {
        Gen.Select(Gen.OneOf(LabelledRow.Array[1, 150], ExpectedRow.Array[1, 150]), Gen.Enum<BarometerPeriod>(), Gen.Int[1, 6]).Sample((rows, period, window) =>
        {
            var result = SentimentBarometer.Aggregate(rows, new BarometerOptions { Period = period, SmoothingWindow = window, Resamples = 50 });

            Assert.Equal(rows.Length, result.Points.Sum(p => p.Count));
            foreach (var p in result.Points)
            {
                var mine = rows.Where(r => r.Date >= p.Start && r.Date <= p.End).ToArray();
                Assert.Equal(mine.Length, p.Count);
                if (p.IsGap)
                {
                    Assert.Null(p.Index);
                    continue;
                }

                Assert.InRange(p.Index!.Value, -1, 1);
                Assert.Equal(p.PositiveShare!.Value - p.NegativeShare!.Value, p.Index.Value, 12);
                Assert.Equal(mine.Average(r => r.Polarity), p.Index.Value, 12);
                Assert.True(p.Lower <= p.Upper);
                Assert.InRange(p.Smoothed!.Value, -1, 1);
            }
        }, iter: 200);
    }

    [Fact]
    public void Smoothing_OfAConstantSeries_IsTheConstant()
    {
        // Each day holds k copies of (+1, +1, -1): index 1/3 whatever k, so every window's pooled index is 1/3, exactly.
        Gen.Select(Gen.Int[1, 5].Array[1, 40], Gen.Int[1, 8]).Sample((copies, window) =>
        {
            var rows = copies.SelectMany((k, day) => Enumerable.Range(0, k).SelectMany(_ => new[] { 1, 1, -1 })
                .Select(p => BarometerRow.Labelled(new DateOnly(2024, 1, 1).AddDays(day), p))).ToArray();
            var points = SentimentBarometer.Aggregate(rows, new BarometerOptions { Period = BarometerPeriod.Day, SmoothingWindow = window, Resamples = 20 }).Points;

            Assert.All(points, p => Assert.Equal(1.0 / 3, p.Smoothed));
        }, iter: 100);

        Gen.Select(Gen.Double[0, 0.5], Gen.Double[0, 0.5], Gen.Int[1, 30], Gen.Int[1, 5]).Sample((pos, neg, days, window) =>
        {
            var rows = Enumerable.Range(0, days * 3).Select(i => new BarometerRow(new DateOnly(2024, 1, 1).AddDays(i / 3), pos, neg)).ToArray();
            var points = SentimentBarometer.Aggregate(rows, new BarometerOptions { Period = BarometerPeriod.Day, SmoothingWindow = window, Resamples = 20 }).Points;

            Assert.All(points, p => Assert.Equal(pos - neg, p.Smoothed!.Value, 12));
        }, iter: 100);
    }
}
