using System.Threading.Channels;
using Lasthope.Core.Events;
using Lasthope.Core.Storage;
using Lasthope.Server.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lasthope.Server.State;

/// <summary>
/// Writes served rankings to the store off the request path. A rank request only enqueues (a bounded channel, so the
/// log can never stall or blow the budget); a background loop writes batches. When the queue is full the ranking is
/// dropped and counted, never waited for. While the store fails, the loop retries the same batch with back-off and
/// <see cref="StoreError"/> says why, which responses report as "store_unavailable".
/// </summary>
public sealed partial class ImpressionLog : BackgroundService
{
    private const int BatchSize = 512;
    private readonly Channel<RankingLog> _queue;
    private readonly IEventStore _store;
    private readonly LasthopeMetrics _metrics;
    private readonly ILogger<ImpressionLog> _logger;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _queued;
    private long _dropped;
    private long _written;
    private volatile string? _storeError;

    public ImpressionLog(IEventStore store, int capacity, LasthopeMetrics metrics, ILogger<ImpressionLog> logger)
    {
        _store = store;
        _metrics = metrics;
        _logger = logger;
        _queue = Channel.CreateBounded<RankingLog>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait, // TryWrite then fails instead of waiting; see Enqueue
            SingleReader = true,
        });
    }

    /// <summary>Rankings waiting to be written.</summary>
    public long Queued => Interlocked.Read(ref _queued);

    /// <summary>Rankings dropped because the queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Rankings written to the store.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>The last store error while it is failing; null when the last write succeeded.</summary>
    public string? StoreError => _storeError;

    /// <summary>Queues a ranking for the store without waiting. Returns false (and counts a drop) when full.</summary>
    public bool Enqueue(RankingLog ranking)
    {
        if (_queue.Writer.TryWrite(ranking))
        {
            Interlocked.Increment(ref _queued);
            return true;
        }

        Interlocked.Increment(ref _dropped);
        _metrics.ImpressionLogDropped(1);
        return false;
    }

    /// <summary>Waits until everything queued so far has been written (for tests, import and shutdown).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        while (Queued > 0 && !_drained.Task.IsCompleted)
        {
            await Task.Delay(5, cancellationToken);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    /// <remarks>
    /// The writer has a thread of its own. The store's calls may be synchronous (SQLite's are), and the thread pool
    /// keeps one thread per core: a batch written on a pool thread held a thread that requests' continuations needed,
    /// and timed-out requests answered up to 90 ms after their deadline.
    /// </remarks>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => WriteLoop(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void WriteLoop(CancellationToken stoppingToken)
    {
        var batch = new List<RankingLog>(BatchSize);
        var reader = _queue.Reader;
        try
        {
            // On shutdown the writer is completed first, so this loop drains what is queued before it ends.
            while (reader.WaitToReadAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult())
            {
                while (batch.Count < BatchSize && reader.TryRead(out var ranking))
                {
                    batch.Add(ranking);
                }

                WriteWithRetry(batch, stoppingToken);
                Interlocked.Add(ref _queued, -batch.Count);
                batch.Clear();
            }
        }
        finally
        {
            _drained.TrySetResult();
        }
    }

    private void WriteWithRetry(List<RankingLog> batch, CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                _store.AppendRankingsAsync(batch, CancellationToken.None).GetAwaiter().GetResult();
                Interlocked.Add(ref _written, batch.Count);
                _storeError = null;
                return;
            }
            catch (StoreUnavailableException e)
            {
                _storeError = e.Message;
                LogStoreFailed(_logger, batch.Count, attempt, e.Message);
                if (stoppingToken.IsCancellationRequested && attempt >= 3)
                {
                    // Shutting down and the store still fails: these rankings are lost; say how many.
                    Interlocked.Add(ref _dropped, batch.Count);
                    _metrics.ImpressionLogDropped(batch.Count);
                    return;
                }

                Thread.Sleep(delay);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 2000));
            }
        }
    }

    [LoggerMessage(EventId = LogEvents.ImpressionLogWriteFailed, Level = LogLevel.Warning, Message = "Impression log: writing {Count} rankings failed (attempt {Attempt}): {Error}")]
    private static partial void LogStoreFailed(ILogger logger, int count, int attempt, string error);
}
