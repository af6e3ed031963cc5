using Lasthope.Core.Storage;
using Lasthope.Server.Configuration;
using Lasthope.Server.Models;
using Lasthope.Server.Predict;
using Lasthope.Server.Recommend;
using Lasthope.Server.State;
using Lasthope.Server.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lasthope.Server.Hosting;

/// <summary>
/// What the server does before it takes its first request (hosted services start before the server listens): it
/// rebuilds the counters from the store's log, loads and warms up the active re-rankers, recommenders and predictors, and says
/// what it could not decode and whether it runs without keys.
/// </summary>
public sealed partial class WarmStart(
    IEventStore store,
    CounterState state,
    UserSegments users,
    RecentRankings recent,
    ItemCatalog catalog,
    ModelRegistry models,
    RecommenderRegistry recommenders,
    IEnumerable<IPackageRegistry> packages,
    SecurityOptions security,
    ILogger<WarmStart> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        store.Skipped.Skipped += record => LogSkipped(logger, record.Kind, record.Sequence, record.Reason);
        if (!security.KeysConfigured)
        {
            LogNoKeys(logger);
        }

        await state.ReplayAsync(store, users, logger, cancellationToken, recent);
        await LoadCatalogAsync(cancellationToken);
        await models.LoadActiveAsync(cancellationToken);
        await recommenders.LoadActiveAsync(cancellationToken);
        foreach (var package in packages)
        {
            await package.LoadActiveAsync(cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The item catalog from the store, in batches; past the catalog's capacity the rest is left out and said.</summary>
    private async Task LoadCatalogAsync(CancellationToken cancellationToken)
    {
        if (store is not IItemStore items)
        {
            return;
        }

        var batch = new List<Core.Items.ItemAttributes>(1024);
        long left = 0;
        await foreach (var item in items.ReadItemsAsync(cancellationToken))
        {
            batch.Add(item);
            if (batch.Count == batch.Capacity)
            {
                left += catalog.TrySet(batch) ? 0 : batch.Count;
                batch.Clear();
            }
        }

        left += batch.Count > 0 && !catalog.TrySet(batch) ? batch.Count : 0;
        if (left > 0)
        {
            LogCatalogFull(logger, left, catalog.Capacity);
        }
    }

    [LoggerMessage(EventId = LogEvents.RecordSkipped, Level = LogLevel.Warning, Message = "The store skipped a {Kind} it could not decode, at sequence {Sequence}: {Reason}")]
    private static partial void LogSkipped(ILogger logger, string kind, long sequence, string reason);

    [LoggerMessage(EventId = LogEvents.CatalogFull, Level = LogLevel.Warning, Message = "{Left} stored items were not loaded: the item catalog holds at most {Capacity} (Limits:MaxItems)")]
    private static partial void LogCatalogFull(ILogger logger, long left, int capacity);

    [LoggerMessage(EventId = LogEvents.NoApiKeys, Level = LogLevel.Warning, Message = "No API keys are configured: every request is allowed, so Lasthope listens only on loopback. Configure Lasthope:Security:ApiKeys before exposing it.")]
    private static partial void LogNoKeys(ILogger logger);
}
