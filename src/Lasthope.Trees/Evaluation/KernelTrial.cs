using System.Diagnostics;

namespace Lasthope.Trees.Evaluation;

/// <summary>
/// Chooses between two compilations of one forest (the bitvector layout where trees are small enough, and the
/// lockstep walk) by timing them on the rows the caller actually scores, then keeps the faster.
/// <para>
/// Which kernel wins depends on the data as much as on the trees: QuickScorer's bitvector kernel pays for every node
/// whose test is false, the lockstep walk for the length of each path (Lucchese et al., "QuickScorer", SIGIR 2015).
/// On the ranker's sparse candidates (short paths) lockstep was 2.1x faster; on dense benchmark rows the bitvector
/// kernel was 5.7x faster; neither a fixed rule nor synthetic rows at load picked right (docs/performance.md). So,
/// as FFTW's planner does, it measures: calls alternate between the two until each has scored
/// <see cref="TrialRows"/> rows over at least <see cref="TrialCalls"/> calls, and from then on every call uses the
/// one with the lower time per row. Both give the same scores bit for bit (KernelPropertyTests), so the choice
/// changes speed only. The first call of each is left out of the figures (it pays for JIT compilation).
/// </para>
/// </summary>
internal sealed class KernelTrial
{
    /// <summary>Rows each kernel scores before the choice is made.</summary>
    public const long TrialRows = 8192;

    /// <summary>Calls each kernel serves before the choice is made (so one large call cannot decide alone).</summary>
    public const int TrialCalls = 16;

    private readonly CompiledForest[] _candidates;
    private readonly long[] _ticks = new long[2];
    private readonly long[] _rows = new long[2];
    private readonly int[] _calls = new int[2];
    private int _turn = -1;
    private volatile CompiledForest? _settled;

    public KernelTrial(CompiledForest first, CompiledForest second) => _candidates = [first, second];

    /// <summary>The chosen compilation, or null while the trial runs.</summary>
    public CompiledForest? Settled => _settled;

    /// <summary>The forest for the next call, and which candidate it is (-1 once settled: nothing to record).</summary>
    public CompiledForest Next(out int candidate)
    {
        if (_settled is { } settled)
        {
            candidate = -1;
            return settled;
        }

        candidate = Interlocked.Increment(ref _turn) & 1;
        return _candidates[candidate];
    }

    /// <summary>Records a call's time; settles when both candidates have scored enough.</summary>
    public void Record(int candidate, long startTimestamp, int rows)
    {
        if (candidate < 0 || rows == 0)
        {
            return;
        }

        var elapsed = Stopwatch.GetTimestamp() - startTimestamp;
        if (Interlocked.Increment(ref _calls[candidate]) == 1)
        {
            return;
        }

        Interlocked.Add(ref _ticks[candidate], elapsed);
        Interlocked.Add(ref _rows[candidate], rows);
        if (Volatile.Read(ref _calls[0]) > TrialCalls && Volatile.Read(ref _calls[1]) > TrialCalls
            && Volatile.Read(ref _rows[0]) >= TrialRows && Volatile.Read(ref _rows[1]) >= TrialRows)
        {
            // Per-row times compared without division: ticks0 / rows0 <= ticks1 / rows1.
            var first = (double)Volatile.Read(ref _ticks[0]) * Volatile.Read(ref _rows[1]);
            var second = (double)Volatile.Read(ref _ticks[1]) * Volatile.Read(ref _rows[0]);
            _settled ??= first <= second ? _candidates[0] : _candidates[1];
        }
    }
}
