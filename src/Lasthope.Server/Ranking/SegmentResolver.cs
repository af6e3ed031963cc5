using Lasthope.Core.Segments;
using Lasthope.Core.Storage;
using Lasthope.Server.Ingestion;

namespace Lasthope.Server.Ranking;

/// <summary>
/// The segment a request is served for: the explicit segment when acceptable, else age and gender, else the segment the
/// user was last served in (in memory, then the store), else unknown. Notes "unknown_user", and "store_unavailable"
/// when the store could not be asked.
/// </summary>
public sealed class SegmentResolver(SegmentScheme segments, UserSegments users, IEventStore store)
{
    public SegmentScheme Scheme => segments;

    public async ValueTask<string> ResolveAsync(string? userId, int? age, string? gender, string? explicitSegment, List<string> notes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(notes);
        var segment = segments.Resolve(age, gender, explicitSegment);
        if (segment == SegmentScheme.Unknown && userId is not null)
        {
            var remembered = users.Find(userId);
            if (remembered is null)
            {
                try
                {
                    remembered = await store.FindUserSegmentAsync(userId, cancellationToken);

                    // Remember the answer, "unknown" included, so that a user who never gives an age or a gender costs
                    // one store read, not one per request. A later request with age and gender replaces it.
                    users.Remember(userId, remembered ?? SegmentScheme.Unknown);
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
}
