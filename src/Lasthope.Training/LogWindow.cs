using Lasthope.Core.Storage;

namespace Lasthope.Training;

/// <summary>
/// Windows of the log in event time: "the last N days" counts back from the newest ranking of the surface, not from
/// the wall clock, so a simulated or imported history reads the same today as on the day it was made.
/// </summary>
public static class LogWindow
{
    /// <summary>The time of the newest ranking of <paramref name="surface"/>, or null when it has none.</summary>
    public static async Task<DateTimeOffset?> NewestRankingAsync(IEventStore store, string surface, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        DateTimeOffset? newest = null;
        await foreach (var entry in store.ReadLogAsync(DateTimeOffset.MinValue, cancellationToken))
        {
            if (entry.Ranking is { } r && r.Surface == surface && (newest is null || r.Time > newest))
            {
                newest = r.Time;
            }
        }

        return newest;
    }
}
