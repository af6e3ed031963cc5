namespace Lasthope.Server.Cascade;

/// <summary>
/// Stops sending requests to a failing model path: after <see cref="CircuitBreakerOptions.FailureThreshold"/>
/// consecutive errors the circuit opens and requests fall back with "circuit_open" at once; after
/// <see cref="CircuitBreakerOptions.OpenSeconds"/> one trial request is let through (half-open), and its outcome closes
/// or re-opens the circuit. Timeouts are not errors: a slow model is served partially or falls back per request.
/// </summary>
public sealed class CircuitBreaker(CircuitBreakerOptions options, TimeProvider time)
{
    private readonly Lock _gate = new();
    private int _consecutiveFailures;
    private long _openUntilTicks;
    private bool _trialInFlight;

    /// <summary>True while the circuit is open (before a trial is due).</summary>
    public bool IsOpen
    {
        get
        {
            lock (_gate)
            {
                return _openUntilTicks != 0 && time.GetUtcNow().UtcTicks < _openUntilTicks;
            }
        }
    }

    /// <summary>Whether a request may use the model path now. In the half-open state only one trial is let through.</summary>
    public bool TryEnter()
    {
        lock (_gate)
        {
            if (_openUntilTicks == 0)
            {
                return true;
            }

            if (time.GetUtcNow().UtcTicks < _openUntilTicks || _trialInFlight)
            {
                return false;
            }

            _trialInFlight = true;
            return true;
        }
    }

    public void Success()
    {
        lock (_gate)
        {
            _consecutiveFailures = 0;
            _openUntilTicks = 0;
            _trialInFlight = false;
        }
    }

    public void Failure()
    {
        lock (_gate)
        {
            _consecutiveFailures++;
            if (_trialInFlight || _consecutiveFailures >= options.FailureThreshold)
            {
                _openUntilTicks = time.GetUtcNow().UtcTicks + TimeSpan.FromSeconds(options.OpenSeconds).Ticks;
                _trialInFlight = false;
            }
        }
    }

    /// <summary>Neither success nor failure (a timeout): releases a half-open trial without judging.</summary>
    public void Neutral()
    {
        lock (_gate)
        {
            _trialInFlight = false;
        }
    }
}
