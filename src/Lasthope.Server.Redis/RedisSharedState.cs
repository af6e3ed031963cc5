using System.Diagnostics.Metrics;
using Lasthope.Core.Events;
using Lasthope.Server.State;
using Lasthope.Server.Telemetry;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Lasthope.Server.Redis;

/// <summary>
/// Recent rankings and users' segments in Redis, so that a click received by one replica attributes to a ranking
/// another served before the log has carried it over. Redis is only ever a shortcut: writes are sent without waiting
/// and dropped (counted) when too many are unanswered; lookups wait at most <see cref="RedisStateOptions.TimeoutMs"/>
/// and then the caller asks the store. The connection is made in the background and remade after Redis restarts
/// (<c>AbortOnConnectFail=false</c>); while it is down, lookups fail at once rather than queue (<c>BacklogPolicy.FailFast</c>).
/// </summary>
public sealed partial class RedisSharedState : ISharedState, IAsyncDisposable
{
    private readonly IConnectionMultiplexer _redis;
    private readonly RedisStateOptions _options;
    private readonly TimeSpan _timeout;
    private readonly TimeSpan _rankingTtl;
    private readonly TimeSpan _segmentTtl;
    private readonly Counter<long> _operations;
    private readonly ILogger _logger;
    private int _pendingWrites;

    private RedisSharedState(IConnectionMultiplexer redis, RedisStateOptions options, IMeterFactory meters, ILogger logger)
    {
        _redis = redis;
        _options = options;
        _timeout = TimeSpan.FromMilliseconds(options.TimeoutMs);
        _rankingTtl = TimeSpan.FromMinutes(options.RankingTtlMinutes);
        _segmentTtl = TimeSpan.FromDays(options.SegmentTtlDays);
        _logger = logger;
        _operations = meters.Create(LasthopeMetrics.MeterName).CreateCounter<long>(
            "lasthope.shared_state.operations", "{operation}", "Shared-state operations by operation (publish, find_ranking, find_segment) and outcome (ok, miss, dropped, unavailable).");
        redis.ConnectionFailed += (_, e) => LogConnectionFailed(e.EndPoint, e.FailureType);
        redis.ConnectionRestored += (_, e) => LogConnectionRestored(e.EndPoint);
    }

    public string Name => "redis";

    /// <summary>Connects (in the background when Redis is not there yet: the server starts regardless).</summary>
    public static RedisSharedState Connect(RedisStateOptions options, IMeterFactory meters, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var configuration = ConfigurationOptions.Parse(options.Configuration);
        configuration.AbortOnConnectFail = false;
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.ConnectTimeout = Math.Min(configuration.ConnectTimeout, 2_000);
        configuration.SyncTimeout = Math.Max(options.TimeoutMs, 100);
        configuration.AsyncTimeout = Math.Max(options.TimeoutMs, 100);
        configuration.ConnectRetry = 1;
        return new RedisSharedState(ConnectionMultiplexer.Connect(configuration), options, meters, logger);
    }

    public void Publish(RankingLog ranking, string? userId)
    {
        ArgumentNullException.ThrowIfNull(ranking);
        if (!_redis.IsConnected)
        {
            Count("publish", "unavailable");
            return;
        }

        var db = _redis.GetDatabase();
        Send(db.StringSetAsync(RankingKey(ranking.RequestId), ServedListBytes.Write(ServedList.Of(ranking)), _rankingTtl));
        if (userId is not null)
        {
            Send(db.StringSetAsync(SegmentKey(userId), ranking.Segment, _segmentTtl));
        }
    }

    public Task<ServedList?> FindRankingAsync(string requestId, CancellationToken cancellationToken)
        => FindAsync("find_ranking", RankingKey(requestId), value => ServedListBytes.Read(value!), cancellationToken);

    public Task<string?> FindSegmentAsync(string userId, CancellationToken cancellationToken)
        => FindAsync("find_segment", SegmentKey(userId), value => (string?)value, cancellationToken);

    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();

    private async Task<T?> FindAsync<T>(string operation, RedisKey key, Func<RedisValue, T?> read, CancellationToken cancellationToken)
        where T : class
    {
        if (!_redis.IsConnected)
        {
            Count(operation, "unavailable");
            throw new SharedStateUnavailableException("Redis is not connected");
        }

        RedisValue value;
        try
        {
            value = await _redis.GetDatabase().StringGetAsync(key).WaitAsync(_timeout, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or RedisException)
        {
            Count(operation, "unavailable");
            throw new SharedStateUnavailableException($"Redis did not answer within {_options.TimeoutMs} ms", e);
        }

        var found = value.IsNull ? null : read(value);
        Count(operation, found is null ? "miss" : "ok");
        return found;
    }

    /// <summary>Sends a write without waiting for it, unless too many are already unanswered.</summary>
    private void Send(Task write)
    {
        if (Interlocked.Increment(ref _pendingWrites) > _options.MaxPendingWrites)
        {
            Interlocked.Decrement(ref _pendingWrites);
            Count("publish", "dropped");
            return;
        }

        write.ContinueWith(
            static (done, state) =>
            {
                var self = (RedisSharedState)state!;
                Interlocked.Decrement(ref self._pendingWrites);
                _ = done.Exception; // observed: a write lost while Redis is down is only counted
                self.Count("publish", done.IsCompletedSuccessfully ? "ok" : "unavailable");
            },
            this,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private RedisKey RankingKey(string requestId) => _options.KeyPrefix + "r:" + requestId;

    private RedisKey SegmentKey(string userId) => _options.KeyPrefix + "u:" + userId;

    private void Count(string operation, string outcome)
        => _operations.Add(1, new KeyValuePair<string, object?>("operation", operation), new KeyValuePair<string, object?>("outcome", outcome));

    [LoggerMessage(EventId = LogEvents.SharedStateConnectionFailed, Level = LogLevel.Warning, Message = "Redis connection to {EndPoint} failed ({Failure}): the store answers attribution and segment lookups until it is back")]
    private partial void LogConnectionFailed(System.Net.EndPoint? endPoint, ConnectionFailureType failure);

    [LoggerMessage(EventId = LogEvents.SharedStateConnectionRestored, Level = LogLevel.Information, Message = "Redis connection to {EndPoint} restored")]
    private partial void LogConnectionRestored(System.Net.EndPoint? endPoint);
}
