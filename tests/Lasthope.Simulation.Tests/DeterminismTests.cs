namespace Lasthope.Simulation.Tests;

public class DeterminismTests
{
    private static readonly SimulationOptions Small = new() { RequestsPerDay = 2_000, CandidatesPerRequest = 50 };

    [Fact]
    public void SameSeed_GivesTheSameRequests_AndTheSameClicksForTheSameServedOrder()
    {
        var a = new TrafficGenerator(Small);
        var b = new TrafficGenerator(Small);

        var fromA = a.RequestsOfDay(3).Take(500).ToList();
        var fromB = b.RequestsOfDay(3).Take(500).ToList();

        Assert.Equal(fromA.Select(Describe), fromB.Select(Describe));
        Assert.Equal(fromA.Select(r => Clicks(a, r)), fromB.Select(r => Clicks(b, r)));
        Assert.Contains(fromA, r => Clicks(a, r).Length > 0);
    }

    [Fact]
    public void DifferentSeeds_GiveDifferentTrafficAndDifferentTruth()
    {
        var a = new TrafficGenerator(Small);
        var b = new TrafficGenerator(Small with { Seed = Small.Seed + 1 });

        var fromA = a.RequestsOfDay(0).Take(100).Select(Describe).ToList();
        var fromB = b.RequestsOfDay(0).Take(100).Select(Describe).ToList();
        Assert.Equal(0, fromA.Zip(fromB).Count(pair => pair.First == pair.Second));

        var noon = a.StartOfDay(0).AddHours(12);
        Assert.NotEqual(a.TrueTop("f:25-34", noon, 10), b.TrueTop("f:25-34", noon, 10));
    }

    [Fact]
    public void RequestsAndClicks_DoNotDependOnTheOrderOrThreadTheyAreMadeIn()
    {
        var sequential = new TrafficGenerator(Small);
        var expected = Enumerable.Range(0, 3_000).Select(i => sequential.Request(i)).Select(r => Describe(r) + Clicks(sequential, r)).ToArray();

        // A fresh generator asked in reverse, from several threads, after first building later days.
        var shuffled = new TrafficGenerator(Small);
        _ = shuffled.Request(20L * Small.RequestsPerDay);
        var actual = new string[expected.Length];
        Parallel.For(0, expected.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, k =>
        {
            var i = expected.Length - 1 - k;
            var request = shuffled.Request(i);
            actual[i] = Describe(request) + Clicks(shuffled, request);
        });

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Truth_IsAPureFunctionOfItemSegmentAndTime()
    {
        var warm = new TrafficGenerator(Small);
        var time = warm.StartOfDay(9).AddHours(7);
        for (var day = 0; day < 40; day += 3)
        {
            _ = warm.TrueTop("m:35-44", warm.StartOfDay(day), 5);
        }

        var fresh = new TrafficGenerator(Small);

        foreach (var item in new[] { "item-0", "item-123", "item-299", "item-350" })
        {
            Assert.Equal(fresh.TrueAttractiveness(item, "m:35-44", time), warm.TrueAttractiveness(item, "m:35-44", time));
        }

        Assert.Equal(fresh.TrueTop("unknown", time, 10), warm.TrueTop("unknown", time, 10));
    }

    [Fact]
    public void RequestsInARange_SplitAnywhere_ConcatenateToTheRequestsOfTheWholeRange()
    {
        var generator = new TrafficGenerator(Small);
        var start = generator.StartOfDay(1).AddHours(5);
        var split = generator.StartOfDay(2).AddHours(13.37);
        var end = generator.StartOfDay(3).AddHours(2);

        var whole = generator.Requests(start, end).Select(r => r.RequestId).ToList();
        var parts = generator.Requests(start, split).Concat(generator.Requests(split, end)).Select(r => r.RequestId).ToList();

        Assert.Equal(whole, parts);
        Assert.All(generator.Requests(start, split), r => Assert.InRange(r.Time, start, split.AddTicks(-1)));
        Assert.Equal(whole.Count, whole.Distinct().Count());
    }

    [Fact]
    public void AnOpenEndedRange_IsAnEndlessStreamThatMatchesRandomAccess()
    {
        var generator = new TrafficGenerator(Small);

        var stream = generator.Requests(DateTimeOffset.MinValue, DateTimeOffset.MaxValue).Take(Small.RequestsPerDay + 10).ToList();

        Assert.Equal(Enumerable.Range(0, stream.Count).Select(i => (long)i), stream.Select(r => r.Index));
        Assert.Equal(stream.Select(r => r.RequestId), stream.Select(r => generator.Request(r.Index).RequestId));
        Assert.Equal(1, stream[^1].Day);
    }

    private static string Describe(SimulatedRequest r) =>
        $"{r.RequestId}|{r.Time:O}|{r.User.Id}|{r.Segment}|{string.Join(',', r.CandidateIds)}|{string.Join(',', r.Candidates.Select(c => c.QualitySignal))}";

    private static string Clicks(TrafficGenerator generator, SimulatedRequest r) =>
        string.Join(';', generator.SimulateClicks(r).Select(c => $"{c.EventId}@{c.Time:O}"));
}
