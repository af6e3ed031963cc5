using System.Diagnostics;

namespace Lasthope.Trees.Evaluation;

/// <summary>
/// Chooses between two compilations of one forest (the bitvector layout where trees are small enough, and the
/// lockstep walk) by timing them on the rows the caller actually scores, then keeps the faster.
/// <para>
/// Which kernel wins depends on the data as much as on the trees: QuickScorer's bitvector kernel pays for every node
/// whose test is false, the lockstep walk for the length of each path (Lucchese et al., "QuickScorer", SIGIR 2015).
/// On the ranker's candidates lockstep was 2.5x faster per row; on dense benchmark rows the bitvector kernel was
/// faster; neither a fixed rule nor synthetic rows at load picked right (docs/performance.md). So, as FFTW's planner
/// does, it measures. Calls go to one kernel in runs of <see cref="RunLength"/>, the kernel of each run chosen by a
/// hash (not by strict turns call by call, which gave one kernel every first block of a request and the other every
/// short last one, and timed each with the other's data in the cache); only a run's later calls are timed. The first
/// <see cref="WarmupCalls"/> calls of each, and every call in the first <see cref="WarmupTime"/>, are not timed:
/// until the JIT has tiered the kernels up, the timings measure the JIT (a first trial, timed from the second call,
/// picked the kernel that was 2.5x slower once warm). Then each is timed until it has scored
/// <see cref="TrialRows"/> rows over <see cref="TrialCalls"/> calls, and from then on every call uses the one with the
/// lower time per row. Both give the same scores bit for bit (KernelPropertyTests), so the choice changes speed only.
/// </para>
/// </summary>
internal sealed class KernelTrial
{
    /// <summary>Calls of each kernel left untimed while the JIT tiers the code up.</summary>
    public const int WarmupCalls = 200;

    /// <summary>Time from the first call during which no call is timed (tiered compilation promotes code in the background).</summary>
    public static readonly TimeSpan WarmupTime = TimeSpan.FromSeconds(1);

    /// <summary>Rows each kernel scores, timed, before the choice is made.</summary>
    public const long TrialRows = 16_384;

    /// <summary>
    /// Consecutive calls given to one kernel; the first quarter of a run is not timed. Interleaving the kernels call by
    /// call timed each with the other's layout in the cache, which made them look alike when, alone, one was 1.6x faster.
    /// </summary>
    public const int RunLength = 64;

    /// <summary>Timed calls of each kernel before the choice is made (so that a few large calls cannot decide alone).</summary>
    public const int TrialCalls = 200;

    private readonly CompiledForest[] _candidates;
    private readonly long[] _ticks = new long[2];
    private readonly long[] _rows = new long[2];
    private readonly int[] _calls = new int[2];
    private readonly int[] _timedCalls = new int[2];
    private long _firstCall;
    private uint _turn;
    private volatile CompiledForest? _settled;

    [ThreadStatic]
    private static bool _timedTurn;

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

        // Runs of RunLength consecutive calls per kernel, the kernel of each run the top bit of Knuth's multiplicative
        // hash of the run's number: half the runs each, in no fixed pattern. Only a run's later calls are timed.
        var turn = Interlocked.Increment(ref _turn);
        candidate = (int)(((turn / RunLength) * 2654435761u) >> 31);
        _timedTurn = turn % RunLength >= RunLength / 4;
        return _candidates[candidate];
    }

    /// <summary>Records a call's time; settles when both candidates have been timed enough.</summary>
    public void Record(int candidate, long startTimestamp, int rows)
    {
        if (candidate < 0 || rows == 0)
        {
            return;
        }

        var now = Stopwatch.GetTimestamp();
        Interlocked.CompareExchange(ref _firstCall, startTimestamp, 0);
        if (Interlocked.Increment(ref _calls[candidate]) <= WarmupCalls || !_timedTurn || Stopwatch.GetElapsedTime(Volatile.Read(ref _firstCall), now) < WarmupTime)
        {
            return;
        }

        Interlocked.Add(ref _ticks[candidate], now - startTimestamp);
        Interlocked.Add(ref _rows[candidate], rows);
        Interlocked.Increment(ref _timedCalls[candidate]);
        if (Volatile.Read(ref _timedCalls[0]) >= TrialCalls && Volatile.Read(ref _timedCalls[1]) >= TrialCalls
            && Volatile.Read(ref _rows[0]) >= TrialRows && Volatile.Read(ref _rows[1]) >= TrialRows)
        {
            // Per-row times compared without division: ticks0 / rows0 <= ticks1 / rows1.
            var first = (double)Volatile.Read(ref _ticks[0]) * Volatile.Read(ref _rows[1]);
            var second = (double)Volatile.Read(ref _ticks[1]) * Volatile.Read(ref _rows[0]);
            _settled ??= first <= second ? _candidates[0] : _candidates[1];
        }
    }
}
