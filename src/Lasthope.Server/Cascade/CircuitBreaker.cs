using Lasthope.Server.Configuration;
using Lasthope.Server.Telemetry;
using Microsoft.Extensions.Logging;
namespace Lasthope.Server.Cascade;

/// <summary>
/// Stops sending requests to a failing model path: after <see cref="CircuitBreakerOptions.FailureThreshold"/>
/// consecutive errors the circuit opens and requests fall back with "circuit_open" at once; after
/// <see cref="CircuitBreakerOptions.OpenSeconds"/> one trial request is let through (half-open), and its outcome closes
/// or re-opens the circuit. Timeouts are not errors: a slow model is served partially or falls back per request.
/// </summary>
public sealed partial class CircuitBreaker(string surface, CircuitBreakerOptions options, TimeProvider time, ILogger logger)
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
        bool wasOpen;
        lock (_gate)
        {
            wasOpen = _openUntilTicks != 0;
            _consecutiveFailures = 0;
            _openUntilTicks = 0;
            _trialInFlight = false;
        }

        if (wasOpen)
        {
            LogClosed(logger, surface);
        }
    }

    public void Failure()
    {
        var failures = 0;
        lock (_gate)
        {
            _consecutiveFailures++;
            if (_trialInFlight || _consecutiveFailures >= options.FailureThreshold)
            {
                if (_openUntilTicks == 0 || _trialInFlight)
                {
                    failures = _consecutiveFailures;
                }

                _openUntilTicks = time.GetUtcNow().UtcTicks + TimeSpan.FromSeconds(options.OpenSeconds).Ticks;
                _trialInFlight = false;
            }
        }

        if (failures > 0)
        {
            LogOpened(logger, surface, failures, options.OpenSeconds);
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

    [LoggerMessage(EventId = LogEvents.CircuitOpened, Level = LogLevel.Warning, Message = "Surface {Surface}: the model path's circuit opened after {Failures} consecutive failures; the heuristic serves with circuit_open for {Seconds} s")]
    private static partial void LogOpened(ILogger logger, string surface, int failures, double seconds);

    [LoggerMessage(EventId = LogEvents.CircuitClosed, Level = LogLevel.Information, Message = "Surface {Surface}: the model path's circuit closed; the model serves again")]
    private static partial void LogClosed(ILogger logger, string surface);
}
