using Lasthope.Core.Segments;

namespace Lasthope.Simulation.Tests;

public class TruthTests
{
    private static readonly TrafficGenerator Generator = new(new SimulationOptions());

    private static IEnumerable<string> Grid => SegmentScheme.Default.GridSegments;

    [Fact]
    public void TheTenSegments_HaveDifferentTrueTopTens()
    {
        var noon = Generator.StartOfDay(0).AddHours(12);
        var tops = Grid.ToDictionary(s => s, s => Generator.TrueTop(s, noon, 10));

        var overlaps = (from a in tops from b in tops where string.CompareOrdinal(a.Key, b.Key) < 0 select Overlap.AtK(a.Value, b.Value, 10)).ToList();

        Assert.Equal(45, overlaps.Count);
        Assert.All(overlaps, o => Assert.True(o < 1.0, "two segments share their whole true top 10"));
        Assert.InRange(overlaps.Average(), 0.05, 0.5);
        Assert.True(tops.Values.SelectMany(t => t).Distinct().Count() >= 40, "the segments' top tens should together cover many items");
    }

    [Fact]
    public void Drift_ChangesTheTrueTopOverWeeks_ButOnlySmoothlyFromDayToDay()
    {
        // No new items and no lifecycle, so any change is drift.
        var options = new SimulationOptions { NewItemsPerDay = 0, NoveltyBoost = 0, AgingStrength = 0 };
        var generator = new TrafficGenerator(options);
        var early = generator.StartOfDay(0);
        var late = generator.StartOfDay(28);

        var overWeeks = Grid.Average(s => Overlap.AtK(generator.TrueTop(s, early, 10), generator.TrueTop(s, late, 10), 10));
        var overADay = Grid.Average(s => Overlap.AtK(generator.TrueTop(s, early, 10), generator.TrueTop(s, early.AddDays(1), 10), 10));

        Assert.True(overWeeks < 0.7, $"top 10 overlap between day 0 and day 28 is {overWeeks:F2}; drift should move it");
        Assert.True(overADay > 0.7, $"top 10 overlap between consecutive days is {overADay:F2}; drift should be gradual");

        // Daily steps in logit are bounded by the drift's slope: two sinusoids of period >= 10 days, amplitude 0.3.
        var largestStep = 0.0;
        var largestOverMonth = 0.0;
        foreach (var item in generator.LiveItems(early).Take(100))
        {
            var first = Logit(generator.TrueAttractiveness(item, "f:35-44", early));
            var previous = first;
            for (var day = 1; day <= 28; day++)
            {
                var current = Logit(generator.TrueAttractiveness(item, "f:35-44", generator.StartOfDay(day)));
                largestStep = Math.Max(largestStep, Math.Abs(current - previous));
                previous = current;
            }

            largestOverMonth = Math.Max(largestOverMonth, Math.Abs(previous - first));
        }

        Assert.InRange(largestStep, 0.01, 0.5);
        Assert.True(largestOverMonth > 0.4, $"the largest change over 28 days is only {largestOverMonth:F2} logits");
    }

    [Fact]
    public void WithoutDriftNewItemsOrLifecycle_TheTruthIsConstant()
    {
        var generator = new TrafficGenerator(new SimulationOptions { NewItemsPerDay = 0, NoveltyBoost = 0, AgingStrength = 0, DriftStrength = 0 });

        Assert.Equal(generator.TrueTop("m:0-24", generator.StartOfDay(0), 20), generator.TrueTop("m:0-24", generator.StartOfDay(60), 20));
        Assert.Equal(
            generator.TrueAttractiveness("item-7", "f:55+", generator.StartOfDay(0)),
            generator.TrueAttractiveness("item-7", "f:55+", generator.StartOfDay(60)));
    }

    [Fact]
    public void Truth_IsConstantWithinADay_AndAProbability()
    {
        var day = Generator.StartOfDay(5);
        foreach (var item in Generator.LiveItems(day).Take(50))
        {
            var morning = Generator.TrueAttractiveness(item, "m:25-34", day.AddHours(1));
            Assert.Equal(morning, Generator.TrueAttractiveness(item, "m:25-34", day.AddHours(23)));
            Assert.InRange(morning, 1e-6, 1 - 1e-6);
        }
    }

    [Fact]
    public void NewItems_AppearEveryDay_AndSomeReachATrueTopTenWhileNew()
    {
        var options = new SimulationOptions();
        var start = Generator.StartOfDay(0);

        Assert.Equal(options.InitialItemCount, Generator.LiveItemCount(start));
        Assert.Equal(options.InitialItemCount + (7 * options.NewItemsPerDay), Generator.LiveItemCount(Generator.StartOfDay(7)));
        var halfDay = Generator.LiveItemCount(start.AddHours(12)) - options.InitialItemCount;
        Assert.InRange(halfDay, 4, 6);

        var newInTop = 0;
        for (var day = 1; day <= 14; day++)
        {
            foreach (var segment in Grid)
            {
                newInTop += Generator.TrueTop(segment, Generator.StartOfDay(day), 10)
                    .Count(id => Generator.Item(id).Published > Generator.StartOfDay(day - 7));
            }
        }

        Assert.True(newInTop > 0, "no item in its first week ever reached a segment's true top 10");
        var item = Generator.Item($"item-{options.InitialItemCount + 25}");
        Assert.InRange(item.Published, Generator.StartOfDay(2), Generator.StartOfDay(3));
        Assert.DoesNotContain(item.Id, Generator.LiveItems(item.Published.AddTicks(-1)));
        Assert.Contains(item.Id, Generator.LiveItems(item.Published));
    }

    [Fact]
    public void RetiredItems_LeaveTheCatalogue()
    {
        var generator = new TrafficGenerator(new SimulationOptions { ItemLifetime = TimeSpan.FromDays(30), InitialItemAgeSpan = TimeSpan.FromDays(20) });

        var item = generator.Item("item-0");
        var retired = Assert.NotNull(item.Retired);
        Assert.Contains("item-0", generator.LiveItems(retired.AddTicks(-1)));
        Assert.DoesNotContain("item-0", generator.LiveItems(retired));
        Assert.True(generator.LiveItemCount(generator.StartOfDay(25)) < 300 + (25 * 10));
    }

    [Fact]
    public void UnknownSegmentTruth_IsAMixtureOfTheGridSegments()
    {
        var time = Generator.StartOfDay(2);
        foreach (var item in Generator.LiveItems(time).Take(30))
        {
            var grid = Grid.Select(s => Generator.TrueAttractiveness(item, s, time)).ToList();
            Assert.InRange(Generator.TrueAttractiveness(item, SegmentScheme.Unknown, time), grid.Min(), grid.Max());
        }
    }

    [Fact]
    public void TrueTop_IsSortedByAttractiveness_OverLiveItems()
    {
        var time = Generator.StartOfDay(3).AddHours(6);
        var top = Generator.TrueTop("f:45-54", time, 25);
        var live = Generator.LiveItems(time);

        Assert.Equal(25, top.Count);
        Assert.All(top, id => Assert.Contains(id, live));
        var values = top.Select(id => Generator.TrueAttractiveness(id, "f:45-54", time)).ToList();
        Assert.Equal(values.OrderByDescending(v => v), values);
        Assert.True(values[^1] >= live.Except(top).Max(id => Generator.TrueAttractiveness(id, "f:45-54", time)));
        Assert.Equal(live.Count, Generator.TrueTop("f:45-54", time, 100_000).Count);
    }

    [Fact]
    public void Baseline_MakesTypicalItemsAFewPercentAndTheBestTenToTwentyPercentOrSo()
    {
        var time = Generator.StartOfDay(0).AddHours(12);
        var values = Generator.LiveItems(time).Select(id => Generator.TrueAttractiveness(id, "m:35-44", time)).Order().ToList();

        Assert.InRange(values[values.Count / 2], 0.01, 0.04);
        Assert.InRange(Generator.TrueAttractiveness(Generator.TrueTop("m:35-44", time, 10)[9], "m:35-44", time), 0.06, 0.3);
    }

    [Fact]
    public void RelevanceGrades_FollowTheQuantilesOfTheLiveCatalogue_AndRiseWithAttractiveness()
    {
        var time = Generator.StartOfDay(1);
        var live = Generator.LiveItems(time);
        var graded = live.Select(id => (A: Generator.TrueAttractiveness(id, "f:0-24", time), G: Generator.TrueRelevance(id, "f:0-24", time))).ToList();

        Assert.InRange(graded.Count(x => x.G == 4), 1, 6); // top 1% of 310
        Assert.InRange(graded.Count(x => x.G >= 3), 13, 18); // top 5%
        Assert.InRange(graded.Count(x => x.G >= 1), 150, 160); // top 50%
        var ordered = graded.OrderBy(x => x.A).Select(x => x.G).ToList();
        Assert.Equal(ordered.Order(), ordered);
        Assert.Equal(4, Generator.TrueRelevance(Generator.TrueTop("f:0-24", time, 1)[0], "f:0-24", time));
    }

    [Fact]
    public void RequestLevelTruth_UsesTheUsersTrueSegment_EvenWhenTheServerSeesThemAsUnknown()
    {
        var request = Generator.RequestsOfDay(0).First(r => r.Segment == SegmentScheme.Unknown);
        var ids = request.CandidateIds.ToArray();
        var labels = new int[ids.Length];
        var attractiveness = new double[ids.Length];

        Generator.TrueRelevance(request, ids, labels);
        Generator.TrueAttractiveness(request, ids, attractiveness);

        Assert.NotEqual(SegmentScheme.Unknown, request.User.TrueSegment);
        for (var i = 0; i < ids.Length; i++)
        {
            Assert.Equal(Generator.TrueRelevance(ids[i], request.User.TrueSegment, request.Time), labels[i]);
            Assert.Equal(Generator.TrueAttractiveness(ids[i], request.User.TrueSegment, request.Time), attractiveness[i]);
        }
    }

    [Fact]
    public void TruthQueries_RejectSegmentsAndItemsOutsideTheSimulation()
    {
        var time = Generator.StartOfDay(0);

        Assert.Throws<ArgumentException>(() => Generator.TrueTop("x:0-24", time, 10));
        Assert.Throws<ArgumentException>(() => Generator.TrueAttractiveness("sku-1", "f:0-24", time));
        Assert.Throws<ArgumentException>(() => Generator.TrueAttractiveness("item-01", "f:0-24", time));
    }

    private static double Logit(double p) => Math.Log(p / (1 - p));
}
