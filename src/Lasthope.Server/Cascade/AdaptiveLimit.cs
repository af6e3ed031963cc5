using Lasthope.Server.Configuration;

namespace Lasthope.Server.Cascade;

/// <summary>
/// How many serving requests are let in at once, adapted to the measured queue in front of the CPU turns: additive
/// increase while the smoothed wait for a turn is within <see cref="TargetWaitMs"/>, multiplicative decrease while it
/// is longer. This is the AIMD limit of Netflix's concurrency-limits (<c>AIMDLimit</c>: grow by one, shrink by a ratio),
/// with CoDel's signal instead of a round-trip time (Nichols and Jacobson, "Controlling Queue Delay", ACM Queue 2012):
/// a standing queue delay is overload, whatever the work behind it costs, so a slow model stage (bounded by its own
/// deadline) does not shrink the limit, and a long queue of cheap heuristic stages does.
/// <para>
/// The wait is smoothed (an exponentially weighted average, weight 1/20 per request), so that the one slow request
/// that a moderate load also has does not shrink the limit; a queue that stands moves the average within tens of
/// requests. The increase is TCP's congestion avoidance: 1/limit per request, so about one per limit's worth of
/// requests, and only while the limit is in use (at least half taken); the decrease waits a cool-down between steps
/// (10 ms), so that the average has time to show its effect. The limit never leaves [min, max].
/// </para>
/// </summary>
public sealed class AdaptiveLimit
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly long _cooldownTicks;
    private readonly int _min;
    private readonly int _max;
    private double _limit;
    private int _inFlight;
    private long _lastDecrease;
    private double _averageWaitMs;

    /// <param name="min">The floor: the requests that can always compute at once (the CPU turns), and a few waiting.</param>
    /// <param name="max">The ceiling (<c>Serving:MaxRequestsInFlight</c>).</param>
    /// <param name="initial">Where the limit starts.</param>
    /// <param name="targetWaitMs">A wait for a turn longer than this is a queue that stands.</param>
    /// <param name="backoffRatio">The factor of a decrease, in (0, 1).</param>
    /// <param name="time">The clock of the cool-down (the system's by default).</param>
    public AdaptiveLimit(int min, int max, int initial, double targetWaitMs, double backoffRatio = 0.9, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(min, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, min);
        ArgumentOutOfRangeException.ThrowIfNegative(targetWaitMs);
        if (!(backoffRatio is > 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(backoffRatio), backoffRatio, "The backoff ratio must be in (0, 1).");
        }

        _min = min;
        _max = max;
        _limit = Math.Clamp(initial, min, max);
        TargetWaitMs = targetWaitMs;
        BackoffRatio = backoffRatio;
        _time = time ?? TimeProvider.System;
        _cooldownTicks = _time.TimestampFrequency / 100; // 10 ms
        _lastDecrease = _time.GetTimestamp() - _cooldownTicks;
    }

    public double TargetWaitMs { get; }

    public double BackoffRatio { get; }

    /// <summary>The current limit (whole requests).</summary>
    public int Limit => (int)Volatile.Read(ref _limit);

    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>The smoothed wait for a CPU turn (ms).</summary>
    public double AverageWaitMs => Volatile.Read(ref _averageWaitMs);

    /// <summary>Lets a request in when fewer than <see cref="Limit"/> are; false means refuse it before any work.</summary>
    public bool TryAcquire()
    {
        while (true)
        {
            var current = Volatile.Read(ref _inFlight);
            if (current >= Limit)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _inFlight, current + 1, current) == current)
            {
                return true;
            }
        }
    }

    /// <summary>Lets the next one in: call once per successful <see cref="TryAcquire"/>.</summary>
    public void Release() => Interlocked.Decrement(ref _inFlight);

    /// <summary>Feeds one request's wait for a CPU turn (ms); a wait given up on counts as what it waited, and one refused as infinite.</summary>
    public void Observe(double waitMs)
    {
        // An infinite wait (refused at once: the queue was already too long) weighs as twice the target.
        var sample = double.IsFinite(waitMs) ? Math.Max(0, waitMs) : 2 * TargetWaitMs;
        lock (_lock)
        {
            _averageWaitMs += (sample - _averageWaitMs) / 20;
            if (_averageWaitMs > TargetWaitMs)
            {
                var now = _time.GetTimestamp();
                if (now - _lastDecrease >= _cooldownTicks)
                {
                    _limit = Math.Max(_min, _limit * BackoffRatio);
                    _lastDecrease = now;
                }
            }
            else if (2 * Volatile.Read(ref _inFlight) >= _limit)
            {
                _limit = Math.Min(_max, _limit + (1 / _limit));
            }
        }
    }
}

/// <summary>The serving door's limit: none when <see cref="ServingOptions.MaxRequestsInFlight"/> is 0.</summary>
public sealed record DoorLimit(AdaptiveLimit? Limit)
{
    public static DoorLimit From(ServingOptions serving)
    {
        ArgumentNullException.ThrowIfNull(serving);
        if (serving.MaxRequestsInFlight == 0)
        {
            return new DoorLimit((AdaptiveLimit?)null);
        }

        var max = serving.MaxRequestsInFlight;
        var min = Math.Min(max, serving.MinRequestsInFlight);
        return new DoorLimit(new AdaptiveLimit(min, max, max, serving.QueueTargetMs));
    }
}
