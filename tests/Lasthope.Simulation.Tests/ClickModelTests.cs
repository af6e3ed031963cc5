using Lasthope.Core.Segments;

namespace Lasthope.Simulation.Tests;

public class ClickModelTests
{
    [Fact]
    public void ClickRatesByPosition_FollowTheConfiguredBiasCurve_WithinSamplingError()
    {
        // 200,000 impressions of one attractive item, 20,000 at each of positions 1..10, to users of every segment.
        // Each impression's click probability under the model is exam(p) x a(item, user's true segment, day); the sum
        // over impressions is the expected click count and the sum of p(1 - p) its variance.
        var options = new SimulationOptions { CandidatesPerRequest = 1, RequestsPerDay = 200_000, NewItemsPerDay = 0 };
        var generator = new TrafficGenerator(options);
        var noon = generator.StartOfDay(0).AddHours(12);
        var item = generator.TrueTop("m:45-54", noon, 1)[0];
        var fillers = generator.LiveItems(noon).Where(id => id != item).Take(9).ToArray();

        const int Positions = 10;
        var clicks = new double[Positions];
        var expected = new double[Positions];
        var variance = new double[Positions];
        var attractivenessSum = new double[Positions];
        var served = new string[Positions];
        var a = new double[1];
        for (var i = 0; i < 200_000; i++)
        {
            var request = generator.Request(i);
            var p = i % Positions;
            for (int k = 0, f = 0; k <= p; k++)
            {
                served[k] = k == p ? item : fillers[f++];
            }

            generator.TrueAttractiveness(request, [item], a);
            var q = options.PositionBias.Examination(p + 1) * a[0];
            expected[p] += q;
            variance[p] += q * (1 - q);
            attractivenessSum[p] += a[0];
            clicks[p] += generator.SimulateClicks(request, served.AsSpan(0, p + 1)).Count(c => c.ItemId == item && c.Position == p + 1);
        }

        for (var p = 0; p < Positions; p++)
        {
            var sigma = Math.Sqrt(variance[p]);
            Assert.True(Math.Abs(clicks[p] - expected[p]) < 4 * sigma,
                $"position {p + 1}: {clicks[p]} clicks, expected {expected[p]:F0} +- {4 * sigma:F0}");
        }

        // The test has power: the observed curve rejects a neighbouring exponent (1.0 instead of 0.7) by far.
        for (var p = 4; p < Positions; p++)
        {
            var underOne = attractivenessSum[p] / (p + 1);
            Assert.True(Math.Abs(clicks[p] - underOne) > 8 * Math.Sqrt(variance[p]), $"position {p + 1} cannot tell 0.7 from 1.0");
        }

        // And the estimated examination curve, clicks / attractiveness, is (1/p)^0.7 within 10%.
        for (var p = 0; p < Positions; p++)
        {
            Assert.InRange(clicks[p] / attractivenessSum[p] / Math.Pow(p + 1, -0.7), 0.9, 1.1);
        }
    }

    [Fact]
    public void PositionsPastTheDepth_AreNeverClicked()
    {
        var generator = new TrafficGenerator(new SimulationOptions { PositionBias = PositionBias.Geometric(1.0, 3), BaselineCtr = 0.5 });
        var clicks = generator.RequestsOfDay(0).Take(2_000).SelectMany(r => generator.SimulateClicks(r, r.CandidateIds.ToArray())).ToList();

        Assert.NotEmpty(clicks);
        Assert.All(clicks, c => Assert.InRange(c.Position, 1, 3));
        Assert.Equal(3, clicks.Select(c => c.Position).Distinct().Count());
    }

    [Fact]
    public void AnEmpiricalCtrPerItemAndSegment_RecoversEachSegmentsTrueTopTen()
    {
        // The demo's learning target must be learnable: one day of traffic served in random order (the candidates come
        // shuffled), 10,000 requests per segment, an estimator that is just smoothed clicks / impressions per
        // (item, segment) over the examinable positions. Chance overlap is 10 / 310.
        var options = new SimulationOptions { RequestsPerDay = 100_000 };
        var generator = new TrafficGenerator(options);
        var segments = generator.Segments;
        var depth = options.PositionBias.Depth;
        var items = options.InitialItemCount + options.NewItemsPerDay;
        var impressions = new int[segments.Count, items];
        var clicks = new int[segments.Count, items];
        foreach (var request in generator.RequestsOfDay(0))
        {
            var s = IndexOf(segments, request.Segment);
            for (var p = 0; p < Math.Min(depth, request.CandidateIds.Count); p++)
            {
                impressions[s, ItemIndex(request.CandidateIds[p])]++;
            }

            foreach (var click in generator.SimulateClicks(request))
            {
                clicks[s, ItemIndex(click.ItemId)]++;
            }
        }

        var endOfDay = generator.StartOfDay(1).AddTicks(-1);
        var own = new List<double>();
        var other = new List<double>();
        for (var s = 0; s < segments.Count; s++)
        {
            var estimated = Enumerable.Range(0, items)
                .OrderByDescending(i => (clicks[s, i] + 0.5) / (impressions[s, i] + 10.0))
                .Take(10)
                .Select(i => $"item-{i}")
                .ToList();
            own.Add(Overlap.AtK(estimated, generator.TrueTop(segments[s], endOfDay, 10), 10));
            other.AddRange(segments.Where(x => x != segments[s]).Select(x => Overlap.AtK(estimated, generator.TrueTop(x, endOfDay, 10), 10)));
        }

        Assert.True(own.Average() >= 0.6, $"mean overlap@10 {own.Average():F2}");
        Assert.All(own.Take(10), o => Assert.True(o >= 0.3, $"a grid segment's overlap@10 is {o:F2}"));
        Assert.True(own[^1] >= 0.2, $"the unknown segment's overlap@10 is {own[^1]:F2}");

        // What is learnt is the segment's own truth, not a global popularity that any segment would share.
        Assert.True(own.Average() > other.Average() + 0.3, $"own {own.Average():F2} vs other segments' truth {other.Average():F2}");
    }

    [Fact]
    public void Clicks_CarryTheRequestUserAndPosition_AndFollowTheRequestBySeconds()
    {
        var generator = new TrafficGenerator(new SimulationOptions { BaselineCtr = 0.2 });
        var requests = generator.RequestsOfDay(0).Take(500).ToList();
        var all = new List<SimulatedClick>();
        foreach (var request in requests)
        {
            var served = request.CandidateIds.Reverse().ToArray();
            var clicks = generator.SimulateClicks(request, served);
            foreach (var click in clicks)
            {
                Assert.Equal(request.RequestId, click.RequestId);
                Assert.Equal(request.User.Id, click.UserId);
                Assert.Equal(served[click.Position - 1], click.ItemId);
                Assert.InRange(click.Time - request.Time, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10));
            }

            Assert.Equal(clicks.OrderBy(c => c.Time).Select(c => c.EventId), clicks.Select(c => c.EventId));
            all.AddRange(clicks);
        }

        Assert.True(all.Count > 500);
        Assert.Equal(all.Count, all.Select(c => c.EventId).Distinct().Count());

        var click0 = all[0];
        var interaction = click0.ToInteractionEvent("f:25-34");
        Assert.Equal((click0.EventId, click0.ItemId, click0.RequestId, click0.UserId, click0.Time, (int?)click0.Position, "click", 1.0, "f:25-34"),
            (interaction.EventId, interaction.ItemId, interaction.RequestId, interaction.UserId, interaction.Time, interaction.Position, interaction.Type, interaction.Weight, interaction.Segment));
    }

    [Fact]
    public void AServedOrderThatIsBetter_EarnsMoreClicks()
    {
        var generator = new TrafficGenerator(new SimulationOptions());
        int random = 0, best = 0;
        foreach (var request in generator.RequestsOfDay(0).Take(3_000))
        {
            var ids = request.CandidateIds.ToArray();
            var a = new double[ids.Length];
            generator.TrueAttractiveness(request, ids, a);
            Array.Sort(a.Select(x => -x).ToArray(), ids);
            random += generator.SimulateClicks(request).Count;
            best += generator.SimulateClicks(request, ids).Count;
        }

        Assert.True(best > 2 * random, $"ideal order {best} clicks vs random order {random}");
    }

    [Fact]
    public void ServedIdsThatAreNotItemsOfTheSimulation_AreRejected()
    {
        var generator = new TrafficGenerator(new SimulationOptions());
        var request = generator.Request(0);

        var error = Assert.Throws<ArgumentException>(() => generator.SimulateClicks(request, ["item-1", "banana"]));
        Assert.Contains("position 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownUsers_ClickLikeTheirTrueSegment()
    {
        // Users the server cannot place still have a real age and gender; their clicks follow that segment's taste.
        var generator = new TrafficGenerator(new SimulationOptions { UnknownUserFraction = 0.5, RequestsPerDay = 40_000 });
        var noon = generator.StartOfDay(0).AddHours(12);
        var item = generator.TrueTop("m:55+", noon, 1)[0];
        double observed = 0, expectedOwn = 0, expectedMixture = 0, variance = 0;
        foreach (var request in generator.RequestsOfDay(0).Where(r => r.Segment == SegmentScheme.Unknown && r.User.TrueSegment == "m:55+"))
        {
            var a = generator.TrueAttractiveness(item, "m:55+", request.Time);
            observed += generator.SimulateClicks(request, [item]).Count;
            expectedOwn += a;
            variance += a * (1 - a);
            expectedMixture += generator.TrueAttractiveness(item, SegmentScheme.Unknown, request.Time);
        }

        Assert.True(Math.Abs(observed - expectedOwn) < 4 * Math.Sqrt(variance), $"{observed} clicks, expected {expectedOwn:F0}");
        Assert.True(Math.Abs(observed - expectedMixture) > 4 * Math.Sqrt(variance), "the test cannot tell the true segment from the mixture");
    }

    private static int IndexOf(IReadOnlyList<string> list, string value)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] == value)
            {
                return i;
            }
        }

        throw new ArgumentException(value);
    }

    private static int ItemIndex(string id) => int.Parse(id.AsSpan(5), System.Globalization.CultureInfo.InvariantCulture);
}
