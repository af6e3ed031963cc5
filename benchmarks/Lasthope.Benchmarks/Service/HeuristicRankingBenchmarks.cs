using BenchmarkDotNet.Attributes;
using Lasthope.Counters;

namespace Lasthope.Benchmarks.Service;

/// <summary>
/// The last-hope ranker over in-memory counters: score and order 1,000 candidates for one segment. The counters hold
/// 30 days of data for 2,000 items in 11 segments. Allocations per call are reported by the memory diagnoser.
/// </summary>
[MemoryDiagnoser]
public class HeuristicRankingBenchmarks
{
    private LastHopeRanker _ranker = null!;
    private string[] _candidates = [];
    private double[] _scores = [];
    private int[] _order = [];

    [Params(1_000)]
    public int Candidates { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var now = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
        var counters = new CtrCounters(new CounterOptions(), new FixedClock(now));
        var random = new Random(1);
        string[] segments = ["f:0-24", "f:25-34", "f:35-44", "f:45-54", "f:55+", "m:0-24", "m:25-34", "m:35-44", "m:45-54", "m:55+", "unknown"];
        for (var item = 0; item < 2_000; item++)
        {
            for (var day = 0; day < 30; day++)
            {
                var time = now.AddDays(-day);
                foreach (var segment in segments)
                {
                    if (random.NextDouble() < 0.5)
                    {
                        counters.RecordImpression($"item-{item}", segment, time, 1 + random.Next(10));
                        if (random.NextDouble() < 0.1)
                        {
                            counters.RecordClick($"item-{item}", segment, time, 1, 1);
                        }
                    }
                }
            }
        }

        _ranker = new LastHopeRanker(counters, new HeuristicOptions());
        _candidates = [.. Enumerable.Range(0, Candidates).Select(i => $"item-{random.Next(2_100)}").Distinct()];
        _scores = new double[_candidates.Length];
        _order = new int[_candidates.Length];
    }

    [Benchmark]
    public int ScoreAndOrder()
    {
        _ranker.Score("m:35-44", _candidates, _scores);
        LastHopeRanker.Order(_candidates, _scores, _order);
        return _order[0];
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
