using System.Reflection;
using Lasthope.Core.Storage;
using Lasthope.Server.Ingestion;
using Lasthope.Server.Security;
using Lasthope.Server.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Lasthope.Server.Api;

/// <summary>GET /v1/status: what the server holds and how its log is doing.</summary>
public static class StatusApi
{
    public static string Version { get; } =
        typeof(StatusApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    public static IEndpointRouteBuilder MapStatusApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/status", GetStatusAsync)
            .WithName("Status")
            .WithSummary("What the server holds and how its log is doing")
            .WithDescription("Version, store counts, tracked items, the impression log's queue and drops, the store's error, skipped records, uptime, the process's runtime figures, and how far the server has counted the log (replicas compare it).")
            .RequireAuthorization(AccessRules.AnyKey);
        return app;
    }

    public static async Task<Ok<StatusResponse>> GetStatusAsync(
        IEventStore store, CounterState state, ImpressionLog log, ServerStarted started, ISharedState shared, CancellationToken cancellationToken)
    {
        var counts = await store.CountAsync(cancellationToken); // a store failure is the shared 503 (ProblemExceptionHandler)

        return TypedResults.Ok(new StatusResponse(
            Version,
            store.Name,
            counts.Rankings,
            counts.Impressions,
            counts.Events,
            counts.Users,
            state.Counters.ItemCount,
            log.Queued,
            log.Dropped,
            log.StoreError,
            started.Elapsed.TotalSeconds,
            RuntimeStats.Capture(),
            new SkippedRecordsDto(store.Skipped.Count, store.Skipped.Records),
            new LogPositionDto(state.AppliedThrough, state.SnapshotSequence, state.Replayed, state.Followed, shared.Name)));
    }
}

/// <summary>When this server instance started (for uptime).</summary>
public sealed class ServerStarted
{
    private readonly long _timestamp = System.Diagnostics.Stopwatch.GetTimestamp();

    public TimeSpan Elapsed => System.Diagnostics.Stopwatch.GetElapsedTime(_timestamp);
}
