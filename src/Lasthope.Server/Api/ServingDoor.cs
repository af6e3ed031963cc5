using System.Threading.RateLimiting;
using Lasthope.Server.Cascade;
using Lasthope.Server.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;

namespace Lasthope.Server.Api;

/// <summary>
/// The door of the serving endpoints (rank, recommend): at most <see cref="ServingOptions.MaxRequestsInFlight"/>
/// requests inside at once (ASP.NET Core's concurrency limiter, no queue). The rest get 503 with Retry-After at once,
/// before their body is read, and are counted in lasthope_serving_rejected_total. Inside the door every request is
/// answered, by the model or the heuristic; the door only keeps the queues behind it bounded.
/// </summary>
public static class ServingDoor
{
    private const string Policy = "serving";

    public static IServiceCollection AddServingDoor(this IServiceCollection services, ServingOptions serving)
    {
        ArgumentNullException.ThrowIfNull(serving);
        return services.AddRateLimiter(o =>
        {
            o.AddPolicy(Policy, _ => serving.MaxRequestsInFlight == 0
                ? RateLimitPartition.GetNoLimiter("all")
                : RateLimitPartition.GetConcurrencyLimiter("all", _ => new ConcurrencyLimiterOptions { PermitLimit = serving.MaxRequestsInFlight, QueueLimit = 0 }));
            o.OnRejected = static (context, cancellationToken) =>
            {
                var http = context.HttpContext;
                http.RequestServices.GetRequiredService<LasthopeMetrics>().ServingRejected(http.Request.Path);
                http.Response.Headers.RetryAfter = "1";
                var problem = TypedResults.Problem(
                    "More requests are in flight than Serving:MaxRequestsInFlight allows; this one was refused before any work. Retry after a second.",
                    statusCode: StatusCodes.Status503ServiceUnavailable,
                    title: "Overloaded");
                return new ValueTask(problem.ExecuteAsync(http));
            };
        });
    }

    /// <summary>Puts an endpoint behind the door.</summary>
    public static TBuilder BehindServingDoor<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
        => builder.RequireRateLimiting(Policy);
}
