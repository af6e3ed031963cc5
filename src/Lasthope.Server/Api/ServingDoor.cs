using System.Diagnostics;
using System.Globalization;
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
/// The door of the serving endpoints (rank, recommend, predict, text): at most the <see cref="AdaptiveLimit"/>'s
/// current limit inside at once, between <see cref="ServingOptions.MinRequestsInFlight"/> and
/// <see cref="ServingOptions.MaxRequestsInFlight"/>, adapted to the queue in front of the CPU turns. The rest get 503
/// with Retry-After at once, before any work, with the time the refusal took in a Server-Timing header, and are
/// counted in lasthope_serving_rejected_total. The door stands after the body has been read
/// (<see cref="BodyReadAhead"/>): a slot is held only while a request is served, so clients that send slowly cannot
/// fill it. Inside the door every request is answered, by the model, the heuristic or the last resort; the door keeps
/// the queues behind it short.
/// </summary>
public sealed class ServingDoor(RequestDelegate next, DoorLimit door, LasthopeMetrics metrics, IProblemDetailsService problems)
{
    private readonly AdaptiveLimit? _limiter = door.Limit;

    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var endpoint = context.GetEndpoint();
        if (_limiter is null || endpoint?.Metadata.GetMetadata<ServingDoorMetadata>() is null)
        {
            await next(context);
            return;
        }

        if (_limiter.TryAcquire())
        {
            try
            {
                await next(context);
            }
            finally
            {
                _limiter.Release();
            }

            return;
        }

        // The route's template, not the raw path: a metric label must come from a closed set.
        metrics.ServingRejected((endpoint as RouteEndpoint)?.RoutePattern.RawText ?? "other");
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = "1";
        var arrival = context.Items.TryGetValue(RankApi.ArrivalKey, out var value) && value is long timestamp ? timestamp : Stopwatch.GetTimestamp();
        context.Response.Headers["Server-Timing"] = string.Create(CultureInfo.InvariantCulture, $"refused;dur={Stopwatch.GetElapsedTime(arrival).TotalMilliseconds:0.###}");
        await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Overloaded",
                Detail = $"{_limiter.Limit} requests are in flight, the door's current limit (adapted to the queue, at most Serving:MaxRequestsInFlight); this one was refused before any work. Retry after a second.",
            },
        });
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
