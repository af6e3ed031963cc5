namespace Lasthope.Simulation;

/// <summary>
/// A clock that a driver sets: the demo and the load tools move it along the generator's event time, so the server's
/// counters bucket and window simulated weeks as if they had passed. It only moves forward.
/// </summary>
public sealed class SimulatedClock(DateTimeOffset start) : TimeProvider
{
    private long _utcTicks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _utcTicks), TimeSpan.Zero);

    /// <summary>Moves the clock to <paramref name="time"/> if that is later than now; earlier times are ignored.</summary>
    public void AdvanceTo(DateTimeOffset time)
    {
        var ticks = time.UtcTicks;
        long current;
        do
        {
            current = Interlocked.Read(ref _utcTicks);
            if (ticks <= current)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _utcTicks, ticks, current) != current);
    }
}
