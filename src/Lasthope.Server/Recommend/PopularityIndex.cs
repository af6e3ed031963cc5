using Lasthope.Core.Segments;
using Lasthope.Core.Storage;
using Lasthope.Factors;
using Lasthope.Server.Configuration;
using Lasthope.Server.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lasthope.Server.Recommend;

/// <summary>
/// The popularity lists the recommender falls back on and serves to users about whom nothing is known: items by the
/// share of users who interacted with them over the last days, overall and per segment (the segment each event was
/// counted for). Rebuilt from the store at start and then periodically; readers see one immutable list or the next.
/// </summary>
public sealed partial class PopularityIndex(IEventStore store, RecommendOptions options, TimeProvider time, ILogger<PopularityIndex> logger) : BackgroundService
{
    private PopularityModel? _current;

    /// <summary>The latest lists; null before the first build.</summary>
    public PopularityModel? Current => Volatile.Read(ref _current);

    /// <summary>Rebuilds the lists from the store's recent events and returns them.</summary>
    public async Task<PopularityModel> RebuildAsync(CancellationToken cancellationToken)
    {
        var since = time.GetUtcNow() - TimeSpan.FromDays(options.PopularityWindowDays);
        var interactions = new List<(string User, string Item, float Weight)>();
        var segmentOf = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var e in store.ReadEventsAsync(since, cancellationToken))
        {
            var user = e.UserId ?? $"event:{e.EventId}";
            interactions.Add((user, e.ItemId, (float)e.Weight));
            if (e.Segment != SegmentScheme.Unknown)
            {
                segmentOf[user] = e.Segment;
            }
        }

        var matrix = InteractionMatrix.FromInteractions(interactions);
        var built = PopularityModel.Build(matrix, u => segmentOf.GetValueOrDefault(u));
        Volatile.Write(ref _current, built);
        return built;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.PopularityRefreshSeconds));
        do
        {
            try
            {
                await RebuildAsync(stoppingToken);
            }
            catch (StoreUnavailableException e)
            {
                LogRebuildFailed(logger, e.Message); // the previous lists keep serving
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(EventId = LogEvents.PopularityRebuildFailed, Level = LogLevel.Warning, Message = "Rebuilding the popularity lists failed; the previous ones keep serving: {Error}")]
    private static partial void LogRebuildFailed(ILogger logger, string error);
}
