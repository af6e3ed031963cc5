using System.Buffers;
using System.Diagnostics;
using Lasthope.Core.Events;
using Lasthope.Counters;

namespace Lasthope.Server.Ranking;

/// <summary>
/// The working state of one rank request as it passes the stages: its deadline, stage timings and notes, and the
/// buffers of the heuristic and the model, rented from the shared pools for the request's life and returned by
/// <see cref="Dispose"/>. Nothing of it outlives the request except what the served ranking keeps (timings, notes).
/// </summary>
internal sealed class RankWork : IDisposable
{
    private static readonly double TicksPerMs = Stopwatch.Frequency / 1000.0;
    private long _last;

    public RankWork(RankCommand command, long arrival, double budgetMs, double reserveMs)
    {
        Command = command;
        Arrival = arrival;
        _last = arrival;
        BudgetMs = budgetMs;
        Deadline = arrival + (long)((budgetMs - reserveMs) * TicksPerMs);
        var n = command.CandidateIds.Length;
        Scores = ArrayPool<double>.Shared.Rent(n);
        Order = ArrayPool<int>.Shared.Rent(n);
        Estimates = ArrayPool<CtrEstimate>.Shared.Rent(n);
    }

    public RankCommand Command { get; }

    public long Arrival { get; }

    public double BudgetMs { get; }

    /// <summary>The <see cref="Stopwatch"/> timestamp past which the model path gives up.</summary>
    public long Deadline { get; }

    public int CandidateCount => Command.CandidateIds.Length;

    public string Segment { get; set; } = "";

    public RankPolicy Policy { get; set; } = RankPolicy.HeuristicOnly(null);

    public HeuristicSummary Summary { get; set; }

    /// <summary>True when no CPU turn came in time and the <see cref="LastResort"/> ordered the candidates.</summary>
    public bool LastResort { get; set; }

    /// <summary>The heuristic's score of each candidate, by candidate index.</summary>
    public double[] Scores { get; }

    /// <summary>Each candidate's estimate in the request's segment, by candidate index: computed once, reused by the features.</summary>
    public CtrEstimate[] Estimates { get; }

    /// <summary>Candidate indices, best first: the heuristic order, then with the model's block re-ranked.</summary>
    public int[] Order { get; }

    /// <summary>The model's feature rows, one per document of the heuristic's top K, in heuristic order.</summary>
    public double[]? Matrix { get; private set; }

    /// <summary>The model's scores of the top K; after re-ranking, in the served order.</summary>
    public double[]? ModelScores { get; private set; }

    /// <summary>For each re-ranked position, the heuristic position (and so the feature row) it came from.</summary>
    public int[]? Reranked { get; private set; }

    public List<string> Notes { get; } = new(4);

    public Dictionary<string, double> Timings { get; } = new(8, StringComparer.Ordinal);

    public TimeSpan Remaining => Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), Deadline);

    public bool PastDeadline => Stopwatch.GetTimestamp() >= Deadline;

    /// <summary>Rents the model's buffers for <paramref name="k"/> documents of <paramref name="columns"/> features.</summary>
    public void RentModelBuffers(int k, int columns)
    {
        Matrix = ArrayPool<double>.Shared.Rent(k * columns);
        ModelScores = ArrayPool<double>.Shared.Rent(k);
        Reranked = ArrayPool<int>.Shared.Rent(k);
    }

    /// <summary>Records the time since the previous mark under <paramref name="stage"/>.</summary>
    public void Mark(string stage)
    {
        var now = Stopwatch.GetTimestamp();
        Timings[stage] = Stopwatch.GetElapsedTime(_last, now).TotalMilliseconds;
        _last = now;
    }

    public void Dispose()
    {
        ArrayPool<double>.Shared.Return(Scores);
        ArrayPool<int>.Shared.Return(Order);
        ArrayPool<CtrEstimate>.Shared.Return(Estimates);
        if (Matrix is not null)
        {
            ArrayPool<double>.Shared.Return(Matrix);
            ArrayPool<double>.Shared.Return(ModelScores!);
            ArrayPool<int>.Shared.Return(Reranked!);
        }
    }
}
