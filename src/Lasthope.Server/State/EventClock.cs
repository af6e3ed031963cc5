namespace Lasthope.Server.State;

/// <summary>
/// A clock driven by the event times of the requests it serves (<c>lasthope serve --event-clock START</c>): it starts at
/// START and moves forward to the <c>timestamp</c> of each rank request that carries a later one, never back. Serving a
/// historical log through the API in time order then runs the counters' windows, the item ages and the impression log
/// in the log's own time, as <c>lasthope replay</c> does in process. Between requests it stands still.
/// </summary>
public sealed class EventClock(DateTimeOffset start) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    /// <summary>Moves the clock to <paramref name="time"/> when it is later; returns the clock after.</summary>
    public DateTimeOffset Advance(DateTimeOffset time)
    {
        var target = time.UtcTicks;
        var seen = Interlocked.Read(ref _ticks);
        while (target > seen)
        {
            var was = Interlocked.CompareExchange(ref _ticks, target, seen);
            if (was == seen)
            {
                return time.ToUniversalTime();
            }

            seen = was;
        }

        return new DateTimeOffset(seen, TimeSpan.Zero);
    }
}
