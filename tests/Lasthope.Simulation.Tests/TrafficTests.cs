using Lasthope.Core.Segments;

namespace Lasthope.Simulation.Tests;

public class TrafficTests
{
    private static readonly TrafficGenerator Generator = new(new SimulationOptions());

    [Fact]
    public void Users_PopulateAllTenSegments_PlusAFewTheServerCannotPlace()
    {
        var users = Generator.Users;
        var bySegment = users.GroupBy(u => u.Segment).ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(5_000, users.Count);
        Assert.All(SegmentScheme.Default.GridSegments, s => Assert.InRange(bySegment.GetValueOrDefault(s), 350, 600));
        Assert.InRange(bySegment[SegmentScheme.Unknown], 175, 325); // 5% of 5,000 = 250, about 15 sigma wide
        Assert.All(users, u => Assert.Equal(u.Segment, SegmentScheme.Default.Resolve(u.Age, u.Gender, null)));
        Assert.All(users, u => Assert.Contains(u.TrueSegment, SegmentScheme.Default.GridSegments));
        Assert.All(users.Where(u => u.Segment != SegmentScheme.Unknown), u => Assert.Equal(u.Segment, u.TrueSegment));
        Assert.Contains(users, u => u.Age is null && u.Gender is null);
        Assert.Contains(users, u => u.Age is not null && u.Gender is null);
        Assert.Equal(users.Count, users.Select(u => u.Id).Distinct().Count());
    }

    [Fact]
    public void ADay_HasTheConfiguredNumberOfRequests_InTimeOrder_WithADailyCycle()
    {
        var day = Generator.RequestsOfDay(4).ToList();
        var start = Generator.StartOfDay(4);

        Assert.Equal(10_000, day.Count);
        Assert.All(day, r => Assert.InRange(r.Time, start, start.AddDays(1).AddTicks(-1)));
        Assert.All(day, r => Assert.Equal(4, r.Day));
        Assert.Equal(day.Select(r => r.Time).Order(), day.Select(r => r.Time));
        Assert.Equal(Enumerable.Range(0, 10_000), day.Select(r => r.Ordinal));
        Assert.Equal(day.Select(r => r.Index), day.Select(r => Generator.Request(r.Index).Index));

        // Intensity 1 + 0.5 cos(2 pi (h - 20) / 24): the peak hour carries about 3 times the trough hour (08:00).
        var byHour = day.GroupBy(r => r.Time.Hour).ToDictionary(g => g.Key, g => g.Count());
        Assert.InRange((double)byHour[20] / byHour[8], 2.4, 3.6);
        Assert.InRange(byHour[20], 560, 680); // 10,000 x 1.5 / 24 = 625
    }

    [Fact]
    public void Requests_ComeFromEverySegment_AndHeavyUsersAskMore()
    {
        var requests = Generator.RequestsOfDay(0).ToList();

        Assert.Equal(SegmentScheme.Default.GridSegments.Append(SegmentScheme.Unknown).Order(), requests.Select(r => r.Segment).Distinct().Order());
        var perUser = requests.GroupBy(r => r.User.Index).Select(g => g.Count()).ToList();
        Assert.True(perUser.Max() > 5 * perUser.Average(), "activity should be heavy-tailed");
    }

    [Fact]
    public void Candidates_AreDistinctLiveItems_AsManyAsConfigured()
    {
        foreach (var request in Generator.RequestsOfDay(2).Where(r => r.Ordinal % 500 == 0))
        {
            var live = Generator.LiveItems(request.Time).ToHashSet();
            Assert.Equal(200, request.Candidates.Count);
            Assert.Equal(200, request.CandidateIds.Distinct().Count());
            Assert.All(request.CandidateIds, id => Assert.Contains(id, live));
            Assert.Equal(request.CandidateIds, request.Candidates.Select(c => c.ItemId));
        }
    }

    [Fact]
    public void AThousandCandidates_AreSampledFromALargerCatalogue_OrTheWholeCatalogueWhenSmaller()
    {
        var large = new TrafficGenerator(new SimulationOptions { InitialItemCount = 1_500, CandidatesPerRequest = 1_000 });
        var small = new TrafficGenerator(new SimulationOptions { InitialItemCount = 40, NewItemsPerDay = 0, CandidatesPerRequest = 1_000 });

        var request = large.Request(123);
        Assert.Equal(1_000, request.CandidateIds.Distinct().Count());
        Assert.True(large.LiveItemCount(request.Time) > 1_000);

        var whole = small.Request(123);
        Assert.Equal(small.LiveItems(whole.Time).Order(StringComparer.Ordinal), whole.CandidateIds.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void CandidateSampling_IsUniformOverTheLiveCatalogue()
    {
        // 2,000 requests of 200 of 300 items: each item is expected in 1,333 of them, sd sqrt(2000 x 2/3 x 1/3) = 21.
        var generator = new TrafficGenerator(new SimulationOptions { NewItemsPerDay = 0 });
        var counts = new Dictionary<string, int>();
        foreach (var request in generator.RequestsOfDay(0).Take(2_000))
        {
            foreach (var id in request.CandidateIds)
            {
                counts[id] = counts.GetValueOrDefault(id) + 1;
            }
        }

        Assert.Equal(300, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 1_333 - 110, 1_333 + 110));

        // And the order is random: an item is as often in the first half as in the second.
        var first = generator.RequestsOfDay(0).Take(2_000).Count(r => r.CandidateIds.Take(100).Contains("item-0"));
        var any = generator.RequestsOfDay(0).Take(2_000).Count(r => r.CandidateIds.Contains("item-0"));
        Assert.InRange((double)first / any, 0.4, 0.6);
    }

    [Fact]
    public void NewItems_AreCandidatesOnlyOncePublished()
    {
        var sawNew = false;
        foreach (var request in Generator.RequestsOfDay(1))
        {
            foreach (var id in request.CandidateIds)
            {
                if (int.Parse(id.AsSpan(5), System.Globalization.CultureInfo.InvariantCulture) >= 300)
                {
                    Assert.True(Generator.Item(id).Published <= request.Time, $"{id} served before it was published");
                    sawNew = true;
                }
            }
        }

        Assert.True(sawNew);
    }

    [Fact]
    public void Features_AreWrittenRowMajorInTheOrderOfTheirNames_AndTheQualitySignalIsPartlyPredictive()
    {
        var request = Generator.Request(77);
        var features = new double[request.Candidates.Count * TrafficGenerator.FeatureCount];

        request.CopyFeaturesTo(features);

        Assert.Equal(["category", "price", "quality_signal", "age_days"], TrafficGenerator.FeatureNames);
        for (var i = 0; i < request.Candidates.Count; i++)
        {
            var c = request.Candidates[i];
            Assert.Equal([c.Category, c.Price, c.QualitySignal, c.AgeDays], features.AsSpan(i * 4, 4).ToArray());
            Assert.InRange(c.QualitySignal, 1, 5);
            Assert.True(c.Price > 0);
            var item = Generator.Item(c.ItemId);
            Assert.InRange(c.AgeDays - (request.Time - item.Published).TotalDays, -0.0051, 0.0051);
        }

        var items = Generator.LiveItems(Generator.StartOfDay(0)).Select(Generator.Item).ToList();
        var r = Correlation(items.Select(i => i.QualitySignal), items.Select(i => i.Quality));
        Assert.InRange(r, 0.4, 0.8);
    }

    private static double Correlation(IEnumerable<double> xs, IEnumerable<double> ys)
    {
        var x = xs.ToArray();
        var y = ys.ToArray();
        double mx = x.Average(), my = y.Average();
        double sxy = 0, sxx = 0, syy = 0;
        for (var i = 0; i < x.Length; i++)
        {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }

        return sxy / Math.Sqrt(sxx * syy);
    }
}
