using System.Threading.RateLimiting;
using Lasthope.Server.Cascade;
using Lasthope.Server.Configuration;
using Lasthope.Server.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Lasthope.Server.Api;

/// <summary>Marks an endpoint that is behind the serving door.</summary>
public sealed class ServingDoorMetadata
{
    public static ServingDoorMetadata Instance { get; } = new();
}

/// <summary>
/// The door of the serving endpoints (rank, recommend): at most <see cref="ServingOptions.MaxRequestsInFlight"/>
/// requests inside at once (a <see cref="ConcurrencyLimiter"/> without a queue). The rest get 503 with Retry-After at
/// once, before any work, and are counted in lasthope_serving_rejected_total. The door stands after the body has been
/// read (<see cref="BodyReadAhead"/>): a slot is held only while a request is served, so clients that send slowly
/// cannot fill it. Inside the door every request is answered, by the model or the heuristic; the door only keeps the
/// queues behind it bounded.
/// </summary>
public sealed class ServingDoor(RequestDelegate next, ServingOptions serving, LasthopeMetrics metrics, IProblemDetailsService problems)
{
    private readonly ConcurrencyLimiter? _limiter = serving.MaxRequestsInFlight == 0
        ? null
        : new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = serving.MaxRequestsInFlight, QueueLimit = 0 });

    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var endpoint = context.GetEndpoint();
        if (_limiter is null || endpoint?.Metadata.GetMetadata<ServingDoorMetadata>() is null)
        {
            await next(context);
            return;
        }

        using var lease = _limiter.AttemptAcquire();
        if (!lease.IsAcquired)
        {
            // The route's template, not the raw path: a metric label must come from a closed set.
            metrics.ServingRejected((endpoint as RouteEndpoint)?.RoutePattern.RawText ?? "other");
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = "1";
            await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new ProblemDetails
                {
                    Status = StatusCodes.Status503ServiceUnavailable,
                    Title = "Overloaded",
                    Detail = "More requests are in flight than Serving:MaxRequestsInFlight allows; this one was refused before any work. Retry after a second.",
                },
            });
            return;
        }

        await next(context);
    }
}

/// <summary>Endpoint conventions of <see cref="ServingDoor"/>.</summary>
public static class ServingDoorExtensions
{
    /// <summary>Puts an endpoint behind the door.</summary>
    public static TBuilder BehindServingDoor<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
        => builder.WithMetadata(ServingDoorMetadata.Instance);
}
