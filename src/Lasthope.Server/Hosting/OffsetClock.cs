using System.Diagnostics;

namespace Lasthope.Server.Hosting;

/// <summary>
/// A clock that starts at a chosen instant and then runs at real speed: for serving a store whose events were written in
/// another time (a replay, a drill, the load test against simulated history), where the counters' windows must cover
/// that history.
/// </summary>
public sealed class OffsetClock(DateTimeOffset start) : TimeProvider
{
    private readonly long _started = Stopwatch.GetTimestamp();

    public override DateTimeOffset GetUtcNow() => start.ToUniversalTime() + Stopwatch.GetElapsedTime(_started);
}
