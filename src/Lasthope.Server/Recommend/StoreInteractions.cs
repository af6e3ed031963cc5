using Lasthope.Core.Storage;
using Lasthope.Factors;

namespace Lasthope.Server.Recommend;

/// <summary>The store's interaction events as the interaction log ALS trains on.</summary>
public static class StoreInteractions
{
    /// <summary>
    /// The interaction events at or after <paramref name="since"/>, in append order, each with its type's weight as
    /// the store recorded it (click 1, conversion 3, ...) and its event time in Unix milliseconds. Events without a user
    /// id (nobody to learn about) and events of non-positive weight are left out; repeated (user, item) pairs stay
    /// separate events in the log and are summed by <see cref="InteractionLog.ToMatrix()"/>.
    /// </summary>
    /// <exception cref="StoreUnavailableException">The store cannot be read.</exception>
    public static async Task<InteractionLog> ReadLogAsync(IEventStore store, DateTimeOffset since, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var builder = new InteractionLogBuilder();
        await foreach (var e in store.ReadEventsAsync(since, cancellationToken))
        {
            if (e.UserId is not null && e.Weight > 0)
            {
                builder.Add(e.UserId, e.ItemId, (float)e.Weight, e.Time.ToUnixTimeMilliseconds());
            }
        }

        return builder.Build();
    }
}
