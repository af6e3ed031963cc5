namespace Lasthope.Server.Cascade;

/// <summary>
/// The CPU turns of the rank pipeline: at most N requests compute at once (N = cores by default), first come first
/// served. Running more CPU-bound requests than cores only slices the cores thinner: every request gets slower together
/// and deadlines are missed that would have been met in turn. Waits for I/O or injected latency happen outside a turn.
/// The heuristic stage always gets its turn (it must answer); the model stage is admitted only if its expected wait,
/// from the queue length and a moving average of recent model stages, plus one model stage fits the remaining budget
/// ("overload" otherwise), and a queued one waits at most until its deadline.
/// </summary>
public sealed class ScoringGate(int slots) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(slots, slots);
    private int _waiting;
    private double _averageMs = 1;

    /// <summary>The moving average of scoring time (ms), for the admission estimate.</summary>
    public double AverageScoringMs => Volatile.Read(ref _averageMs);

    /// <summary>
    /// Waits for a slot. Returns false at once when the expected wait plus one scoring exceeds
    /// <paramref name="remaining"/>, or when no slot frees up in time.
    /// </summary>
    public async ValueTask<bool> EnterAsync(TimeSpan remaining, CancellationToken cancellationToken)
    {
        if (_slots.Wait(0, CancellationToken.None))
        {
            return true;
        }

        var expectedWaitMs = (Volatile.Read(ref _waiting) + 1) * AverageScoringMs / slots;
        if (expectedWaitMs + AverageScoringMs > remaining.TotalMilliseconds)
        {
            return false;
        }

        Interlocked.Increment(ref _waiting);
        try
        {
            return remaining > TimeSpan.Zero && await _slots.WaitAsync(remaining, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    /// <summary>Waits for a turn however long it takes (the heuristic stage, which always answers).</summary>
    public async ValueTask EnterAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _waiting);
        try
        {
            await _slots.WaitAsync(cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    /// <summary>Releases a turn taken with <see cref="EnterAsync(CancellationToken)"/>.</summary>
    public void Exit() => _slots.Release();

    /// <summary>Releases the slot and records how long the scoring took.</summary>
    public void Exit(double scoringMs)
    {
        // An exponentially weighted average (alpha = 0.1) adapts within tens of requests to a model swap.
        var current = Volatile.Read(ref _averageMs);
        Volatile.Write(ref _averageMs, current + (0.1 * (scoringMs - current)));
        _slots.Release();
    }

    public void Dispose() => _slots.Dispose();
}
