using Lasthope.Core.Storage;
using Lasthope.Server.Configuration;
using Lasthope.Server.Models;
using Lasthope.Server.Recommend;
using Lasthope.Server.State;
using Lasthope.Server.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lasthope.Server.Hosting;

/// <summary>
/// What the server does before it takes its first request (hosted services start before the server listens): it
/// rebuilds the counters from the store's log, loads and warms up the active re-rankers and recommenders, and says
/// what it could not decode and whether it runs without keys.
/// </summary>
public sealed partial class WarmStart(
    IEventStore store,
    CounterState state,
    UserSegments users,
    ModelRegistry models,
    RecommenderRegistry recommenders,
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

        await state.ReplayAsync(store, users, logger, cancellationToken);
        await models.LoadActiveAsync(cancellationToken);
        await recommenders.LoadActiveAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = LogEvents.RecordSkipped, Level = LogLevel.Warning, Message = "The store skipped a {Kind} it could not decode, at sequence {Sequence}: {Reason}")]
    private static partial void LogSkipped(ILogger logger, string kind, long sequence, string reason);

    [LoggerMessage(EventId = LogEvents.NoApiKeys, Level = LogLevel.Warning, Message = "No API keys are configured: every request is allowed, so Lasthope listens only on loopback. Configure Lasthope:Security:ApiKeys before exposing it.")]
    private static partial void LogNoKeys(ILogger logger);
}
