using System.Text.Json;
using Lasthope.Server.Cascade;
using Lasthope.Server.Configuration;
using Lasthope.Server.Ingestion;
using Lasthope.Server.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Lasthope.Server.Api;

/// <summary>
/// GET /health/live (the process answers) and GET /health/ready (it can serve as intended). Ready is "Degraded"
/// (still HTTP 200: rankings are still served) while the store fails; checks added by later stages, such as the
/// fallback-rate alarm, join the same report.
/// </summary>
public static class HealthApi
{
    public const string ReadyTag = "ready";

    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        // Open to all: load balancers and orchestrators probe without keys.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag), ResponseWriter = WriteAsync }).AllowAnonymous();
        return app;
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(
                e => e.Key,
                e => new { status = e.Value.Status.ToString(), description = e.Value.Description, data = e.Value.Data }),
        }));
    }
}

/// <summary>Degraded while the impression log cannot write to the store.</summary>
public sealed class StoreHealthCheck(ImpressionLog log) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>
        {
            ["queued"] = log.Queued,
            ["dropped"] = log.Dropped,
            ["written"] = log.Written,
        };
        return Task.FromResult(log.StoreError is { } error
            ? HealthCheckResult.Degraded($"Store writes are failing: {error}", data: data)
            : HealthCheckResult.Healthy("Store writes succeed.", data));
    }
}

/// <summary>
/// Degraded when more than the configured share of model-path requests fell back to the heuristic over the sliding
/// window: the alarm that would have shown the original team that its model was mostly not serving.
/// </summary>
public sealed class FallbackRateHealthCheck(FallbackWindow window, ServingOptions serving) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var alarm = serving.FallbackAlarm;
        var (total, fallbacks) = window.Totals();
        var rate = total == 0 ? 0 : (double)fallbacks / total;
        var data = new Dictionary<string, object>
        {
            ["windowSeconds"] = alarm.WindowSeconds,
            ["modelPathRequests"] = total,
            ["fallbacks"] = fallbacks,
            ["rate"] = rate,
            ["threshold"] = alarm.Threshold,
        };
        return Task.FromResult(total >= alarm.MinRequests && rate > alarm.Threshold
            ? HealthCheckResult.Degraded($"{rate:P1} of {total} model-path requests in the last {alarm.WindowSeconds} s fell back to the heuristic (threshold {alarm.Threshold:P1}).", data: data)
            : HealthCheckResult.Healthy($"Fallback rate {rate:P1} over {total} model-path requests.", data));
    }
}
