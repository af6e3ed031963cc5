using System.ComponentModel.DataAnnotations;

namespace Lasthope.Server.Redis;

/// <summary>Configuration of the replicas' shared state in Redis (section <c>Lasthope:Redis</c>). Off while <see cref="Configuration"/> is empty.</summary>
public sealed class RedisStateOptions
{
    /// <summary>A StackExchange.Redis configuration string, for example <c>redis:6379,password=...</c>. Empty: nothing is shared.</summary>
    public string Configuration { get; init; } = "";

    /// <summary>
    /// How long a lookup may take before the store is asked instead (milliseconds). As <c>Serving:StoreLookupTimeoutMs</c>:
    /// a Redis beside the server answers in well under a millisecond, and the rank request's budget is not for waiting.
    /// </summary>
    [Range(1, 10_000)]
    public int TimeoutMs { get; init; } = 5;

    /// <summary>How long a served ranking is kept for click attribution (minutes).</summary>
    [Range(1, 24 * 60)]
    public int RankingTtlMinutes { get; init; } = 30;

    /// <summary>How long a user's segment is kept (days).</summary>
    [Range(1, 365)]
    public int SegmentTtlDays { get; init; } = 30;

    /// <summary>Prefixes every key, so that deployments can share one Redis.</summary>
    [MaxLength(64)]
    public string KeyPrefix { get; init; } = "lasthope:";

    /// <summary>
    /// Writes sent and not yet answered, at most: past it a publish is dropped (and counted) rather than queued, so a
    /// slow Redis cannot grow the server's memory.
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxPendingWrites { get; init; } = 10_000;
}
