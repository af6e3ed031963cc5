using System.Diagnostics.Metrics;
using Lasthope.Server.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lasthope.Server.Redis;

/// <summary>Registers Redis as the replicas' shared state.</summary>
public static class RedisServiceCollectionExtensions
{
    /// <summary>
    /// Shares recent rankings and users' segments in Redis when <c>Lasthope:Redis:Configuration</c> is set; otherwise
    /// nothing is shared. Whether called before or after <c>AddLasthope</c>, it replaces the default.
    /// </summary>
    public static IServiceCollection AddRedisSharedState(this IServiceCollection services)
    {
        services.AddOptions<RedisStateOptions>().BindConfiguration("Lasthope:Redis").ValidateDataAnnotations().ValidateOnStart();
        services.Replace(ServiceDescriptor.Singleton<ISharedState>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<RedisStateOptions>>().Value;
            return string.IsNullOrWhiteSpace(options.Configuration)
                ? new NoSharedState()
                : RedisSharedState.Connect(options, sp.GetRequiredService<IMeterFactory>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger<RedisSharedState>());
        }));
        return services;
    }
}
