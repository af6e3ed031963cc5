using Lasthope.Core.Segments;
using Lasthope.Core.Storage;

namespace Lasthope.Server.State;

/// <summary>
/// The segment a request is served for: the explicit segment when acceptable, else age and gender, else the segment the
/// user was last served in (in memory, then the store), else unknown. Notes "unknown_user", "store_unavailable" when
/// the store could not be asked, and "store_slow" when it did not answer within <paramref name="storeLookupTimeout"/>:
/// the request goes on as unknown rather than spend its budget on a read with no bound, and the answer, when it comes,
/// is remembered for the user's next request. Between memory and the store it asks the replicas' shared state, when
/// there is one (noting "shared_state_unavailable" when it is down or slow, then asking the store).
/// </summary>
public sealed class SegmentResolver(SegmentScheme segments, UserSegments users, IEventStore store, TimeSpan storeLookupTimeout, ISharedState? shared = null)
{
    public SegmentScheme Scheme => segments;

    public async ValueTask<string> ResolveAsync(string? userId, int? age, string? gender, string? explicitSegment, List<string> notes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(notes);
        var segment = segments.Resolve(age, gender, explicitSegment);
        if (segment == SegmentScheme.Unknown && userId is not null)
        {
            var remembered = users.Find(userId);
            if (remembered is null && shared is not null)
            {
                try
                {
                    remembered = await shared.FindSegmentAsync(userId, cancellationToken);
                    if (remembered is not null)
                    {
                        users.Remember(userId, remembered);
                    }
                }
                catch (SharedStateUnavailableException)
                {
                    notes.Add("shared_state_unavailable");
                }
            }

            if (remembered is null)
            {
                var lookup = LookUpAndRememberAsync(userId);
                try
                {
                    remembered = await lookup.WaitAsync(storeLookupTimeout, cancellationToken);
                }
                catch (TimeoutException)
                {
                    notes.Add("store_slow");
                }
                catch (StoreUnavailableException)
                {
                    notes.Add("store_unavailable");
                }
            }

            segment = remembered ?? SegmentScheme.Unknown;
        }

        if (segment == SegmentScheme.Unknown)
        {
            notes.Add("unknown_user");
        }

        return segment;
    }

    private async Task<string?> LookUpAndRememberAsync(string userId)
    {
        // Not cancelled with the request: a lookup that outlives its request still remembers its answer.
        var segment = await store.FindUserSegmentAsync(userId, CancellationToken.None);

        // Remember the answer, "unknown" included, so that a user who never gives an age or a gender costs one store
        // read, not one per request. A later request with age and gender replaces it.
        users.Remember(userId, segment ?? SegmentScheme.Unknown);
        return segment;
    }
}
