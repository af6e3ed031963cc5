using Lasthope.Core.Storage;
using Lasthope.Server.Configuration;
using Lasthope.Server.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lasthope.Server.State;

/// <summary>
/// Keeps the counters up with the log: every <see cref="StateOptions.FollowIntervalMs"/> it reads the entries after
/// the last one counted, in sequence order, and counts those this server did not count itself, so that several
/// servers on one store converge on the same counters (and a click one received attributes to a ranking another
/// served). Every <see cref="StateOptions.SnapshotIntervalSeconds"/>, and when the server stops, it writes a snapshot
/// of the counters. It runs on every backend: with one server it only moves the bookkeeping on.
/// </summary>
public sealed partial class LogFollower(
    IEventStore store, CounterState state, UserSegments users, RecentRankings recent, StateOptions options, ILogger<LogFollower> logger) : BackgroundService
{
    private long _snapshots;

    /// <summary>Snapshots written since start.</summary>
    public long Snapshots => Interlocked.Read(ref _snapshots);

    /// <summary>Writes a snapshot now (also what the schedule and shutdown do).</summary>
    public async Task SnapshotAsync(CancellationToken cancellationToken)
    {
        var bytes = await state.SaveSnapshotAsync(store, cancellationToken);
        if (bytes > 0)
        {
            Interlocked.Increment(ref _snapshots);
            LogSnapshotSaved(logger, state.AppliedThrough, bytes);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (options.SnapshotIntervalSeconds > 0)
        {
            await TrySnapshotAsync(cancellationToken);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromMilliseconds(options.FollowIntervalMs);
        var snapshotEvery = TimeSpan.FromSeconds(options.SnapshotIntervalSeconds);
        // Real time, whatever clock the server serves on (a simulated or event-time clock may stand still).
        var sinceSnapshot = System.Diagnostics.Stopwatch.StartNew();
        var backoff = interval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await state.FollowAsync(store, users, recent, stoppingToken);
                backoff = interval;
                if (options.SnapshotIntervalSeconds > 0 && sinceSnapshot.Elapsed >= snapshotEvery)
                {
                    sinceSnapshot.Restart();
                    await TrySnapshotAsync(stoppingToken);
                }
            }
            catch (StoreUnavailableException e)
            {
                // The store is down: counting what others append waits for it; this server's own traffic still counts.
                LogFollowFailed(logger, e.Message);
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 5_000));
            }

            try
            {
                await Task.Delay(backoff, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task TrySnapshotAsync(CancellationToken cancellationToken)
    {
        try
        {
            await SnapshotAsync(cancellationToken);
        }
        catch (Exception e) when (e is StoreUnavailableException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            LogSnapshotFailed(logger, e.Message);
        }
    }

    [LoggerMessage(EventId = LogEvents.SnapshotSaved, Level = LogLevel.Information, Message = "Counter snapshot saved at log sequence {Sequence} ({Bytes} bytes)")]
    private static partial void LogSnapshotSaved(ILogger logger, long sequence, long bytes);

    [LoggerMessage(EventId = LogEvents.SnapshotFailed, Level = LogLevel.Warning, Message = "Counter snapshot not saved: {Error}")]
    private static partial void LogSnapshotFailed(ILogger logger, string error);

    [LoggerMessage(EventId = LogEvents.FollowFailed, Level = LogLevel.Warning, Message = "Following the log failed; retrying: {Error}")]
    private static partial void LogFollowFailed(ILogger logger, string error);
}
