using System.Diagnostics;

namespace Lasthope.Server.Cascade;

/// <summary>
/// The CPU turns of the rank pipeline: at most N requests compute at once (N = cores by default). Running more
/// CPU-bound requests than cores only slices the cores thinner: every request gets slower together and deadlines are
/// missed that would have been met in turn. Waits for I/O or injected latency happen outside a turn.
/// <para>
/// Two classes of turn, each first come first served: a freed turn goes to a waiting heuristic stage before any model
/// stage. The heuristic must answer every request, and takes a tenth of a model stage; behind a queue of model stages
/// it would wait for all of them, and under overload every answer would be late. A model stage is admitted only if its
/// expected wait (the queue length times a moving average of recent model stages) is within its longest wait and,
/// plus one model stage, fits the remaining budget ("overload" otherwise); a queued one waits no longer than that.
/// A heuristic stage may be given a longest wait too (its own deadline): past it, or when its expected wait is already
/// longer, it gets no turn and the request is answered without one (<c>LastResort</c>).
/// </para>
/// The waits for turns are reported to the door's <see cref="AdaptiveLimit"/> (the heuristic stages', and the
/// predictions' and texts'): the queue in front of the turns is what it keeps short.
/// </summary>
public sealed class ScoringGate(int slots, AdaptiveLimit? limit = null)
{
    private readonly int _slots = slots;
    private readonly Lock _lock = new();
    private readonly Queue<TaskCompletionSource<bool>> _heuristicQueue = new();
    private readonly Queue<TaskCompletionSource<bool>> _modelQueue = new();
    private int _free = slots;
    private int _waiting;
    private double _averageMs = 1;
    private double _heuristicMs = 0.2;

    /// <summary>The moving average of model stages (ms), for the admission estimate.</summary>
    public double AverageScoringMs => Volatile.Read(ref _averageMs);

    /// <summary>The moving average of heuristic stages (ms), for a heuristic stage's expected wait.</summary>
    public double AverageHeuristicMs => Volatile.Read(ref _heuristicMs);

    /// <summary>Requests waiting for a turn.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Waits for a heuristic turn however long it takes.</summary>
    public async ValueTask EnterAsync(CancellationToken cancellationToken) => await EnterHeuristicAsync(Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>
    /// Waits for a heuristic turn at most <paramref name="longestWait"/> (infinite: however long it takes). Returns
    /// false at once when the heuristic stages already queued, one after another on every turn, would take longer, and
    /// false when no turn comes in time.
    /// </summary>
    public async ValueTask<bool> EnterHeuristicAsync(TimeSpan longestWait, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var bounded = longestWait != Timeout.InfiniteTimeSpan;
        if (bounded && longestWait <= TimeSpan.Zero)
        {
            limit?.Observe(double.PositiveInfinity);
            return false;
        }

        var turn = TryTakeOrQueue(_heuristicQueue, bounded ? longestWait.TotalMilliseconds : double.PositiveInfinity, out var refused);
        if (refused)
        {
            limit?.Observe(double.PositiveInfinity);
            return false;
        }

        if (turn is null)
        {
            limit?.Observe(0);
            return true;
        }

        try
        {
            var entered = bounded ? await turn.Task.WaitAsync(longestWait, cancellationToken) : await turn.Task.WaitAsync(cancellationToken);
            limit?.Observe(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return entered;
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            Abandon(turn);
            limit?.Observe(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (e is OperationCanceledException)
            {
                throw;
            }

            return false;
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    /// <summary>
    /// Waits for a model-stage turn. Returns false at once when the expected wait exceeds <paramref name="longestWait"/>
    /// or, plus one model stage, <paramref name="remaining"/>; and false when no turn comes in time. The wait is
    /// reported to the door's limit when <paramref name="reportWait"/>: predictions and texts, whose only turn this
    /// is; not a rank request's model stage, which is shed by design when it would wait, and whose heuristic stage has
    /// reported the queue already.
    /// </summary>
    public async ValueTask<bool> EnterAsync(TimeSpan longestWait, TimeSpan remaining, CancellationToken cancellationToken, bool reportWait = true)
    {
        var started = Stopwatch.GetTimestamp();
        lock (_lock)
        {
            if (_free > 0)
            {
                _free--;
                if (reportWait)
                {
                    limit?.Observe(0);
                }

                return true;
            }
        }

        var expectedWaitMs = (Waiting + 1) * AverageScoringMs / _slots;
        var waitLimit = longestWait < remaining ? longestWait : remaining;
        if (remaining <= TimeSpan.Zero || expectedWaitMs > longestWait.TotalMilliseconds || expectedWaitMs + AverageScoringMs > remaining.TotalMilliseconds)
        {
            if (reportWait)
            {
                limit?.Observe(double.PositiveInfinity);
            }

            return false;
        }

        var turn = TryTakeOrQueue(_modelQueue, double.PositiveInfinity, out _);
        if (turn is null)
        {
            return true;
        }

        try
        {
            return await turn.Task.WaitAsync(waitLimit, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            Abandon(turn);
            return false;
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
            if (reportWait)
            {
                limit?.Observe(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
    }

    /// <summary>Releases a turn without a measurement (predictions and texts, which have budgets of their own).</summary>
    public void Exit() => Release();

    /// <summary>Releases a heuristic turn and records how long the stage took.</summary>
    public void ExitHeuristic(double stageMs)
    {
        var current = Volatile.Read(ref _heuristicMs);
        Volatile.Write(ref _heuristicMs, current + (0.1 * (stageMs - current)));
        Release();
    }

    /// <summary>Releases a model-stage turn and records how long the stage took.</summary>
    public void Exit(double scoringMs)
    {
        // An exponentially weighted average (alpha = 0.1) adapts within tens of requests to a model swap.
        var current = Volatile.Read(ref _averageMs);
        Volatile.Write(ref _averageMs, current + (0.1 * (scoringMs - current)));
        Release();
    }

    /// <summary>
    /// Takes a free turn (null) or queues a waiter for one; refuses (null, <paramref name="refused"/>) when the stages
    /// already queued in <paramref name="queue"/>, at the heuristic's average each, would take longer than
    /// <paramref name="longestWaitMs"/> on every turn at once.
    /// </summary>
    private TaskCompletionSource<bool>? TryTakeOrQueue(Queue<TaskCompletionSource<bool>> queue, double longestWaitMs, out bool refused)
    {
        refused = false;
        lock (_lock)
        {
            if (_free > 0)
            {
                _free--;
                return null;
            }

            if ((queue.Count + 1) * AverageHeuristicMs / _slots > longestWaitMs)
            {
                refused = true;
                return null;
            }

            // Continuations run on the thread pool, not inside Release under the lock.
            var turn = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            queue.Enqueue(turn);
            Interlocked.Increment(ref _waiting);
            return turn;
        }
    }

    /// <summary>Gives up a wait. If a turn was handed over meanwhile, it is passed on.</summary>
    private void Abandon(TaskCompletionSource<bool> turn)
    {
        if (!turn.TrySetResult(false))
        {
            Release();
        }
    }

    /// <summary>Hands the turn to the first live waiter, heuristic stages first; frees it when nobody waits.</summary>
    private void Release()
    {
        lock (_lock)
        {
            while (_heuristicQueue.TryDequeue(out var next) || _modelQueue.TryDequeue(out next))
            {
                if (next.TrySetResult(true))
                {
                    return;
                }
            }

            _free++;
        }
    }
}
