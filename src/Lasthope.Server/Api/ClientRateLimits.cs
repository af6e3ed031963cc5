using System.Globalization;
using System.Threading.RateLimiting;
using Lasthope.Server.Configuration;
using Lasthope.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;

namespace Lasthope.Server.Api;

/// <summary>
/// Per-client token buckets (ASP.NET Core's rate limiter) on events and on administration: the client is the API
/// key's name, or the remote address when no keys are configured. Past its bucket a request gets 429 with
/// Retry-After, before its body is read.
/// </summary>
public static class ClientRateLimits
{
    public const string EventsPolicy = "events";
    public const string AdminPolicy = "admin";

    public static IServiceCollection AddClientRateLimits(this IServiceCollection services)
    {
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<SecurityOptions>((o, security) =>
        {
            var limits = security.RateLimits;
            o.AddPolicy(EventsPolicy, new ClientTokenBucket(limits.EventsPerSecond, limits.EventsBurst, "Security:RateLimits:EventsPerSecond"));
            o.AddPolicy(AdminPolicy, new ClientTokenBucket(limits.AdminPerSecond, limits.AdminBurst, "Security:RateLimits:AdminPerSecond"));
        });
        return services;
    }

    /// <summary>The client a request is counted for.</summary>
    public static string ClientOf(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        return http.User.Identity is { IsAuthenticated: true, Name: { } name } && name != "anonymous"
            ? "key:" + name
            : "ip:" + (http.Connection.RemoteIpAddress?.ToString() ?? "unknown");
    }

    private sealed class ClientTokenBucket(double perSecond, int burst, string setting) : IRateLimiterPolicy<string>
    {
        public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected { get; } = (context, _) =>
        {
            var http = context.HttpContext;
            var wait = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) : 1;
            http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            http.Response.Headers.RetryAfter = wait.ToString(CultureInfo.InvariantCulture);
            return http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = http,
                ProblemDetails = new ProblemDetails
                {
                    Status = StatusCodes.Status429TooManyRequests,
                    Title = "Too many requests",
                    Detail = $"This client sent more than {setting} allows; retry after {wait} s.",
                },
            });
        };

        public RateLimitPartition<string> GetPartition(HttpContext httpContext)
        {
            var client = ClientOf(httpContext);
            if (perSecond <= 0)
            {
                return RateLimitPartition.GetNoLimiter(client);
            }

            // A whole number of tokens per period: N a second at rates of one or more, else one per 1/rate seconds.
            var (tokens, period) = perSecond >= 1
                ? ((int)Math.Round(perSecond), TimeSpan.FromSeconds(1))
                : (1, TimeSpan.FromSeconds(1 / perSecond));
            return RateLimitPartition.GetTokenBucketLimiter(client, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = burst,
                TokensPerPeriod = tokens,
                ReplenishmentPeriod = period,
                QueueLimit = 0,
                AutoReplenishment = true,
            });
        }
    }
}
