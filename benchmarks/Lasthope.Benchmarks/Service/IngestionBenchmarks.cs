using BenchmarkDotNet.Attributes;
using Lasthope.Core.Events;
using Lasthope.Core.Serving;
using Lasthope.Server.Configuration;
using Lasthope.Server.Hosting;
using Lasthope.Server.Ingestion;
using Lasthope.Server.State;
using Lasthope.Storage.Sqlite;

namespace Lasthope.Benchmarks.Service;

/// <summary>
/// Events per second into the embedded SQLite store (WAL, synchronous=NORMAL: durable against a process crash),
/// through <see cref="EventIngestor"/>, the code path of POST /v1/events: validation, attribution to a logged
/// ranking, de-duplication by event id, the durable append, and the counter and user-history update. One operation =
/// one event.
/// </summary>
[MemoryDiagnoser]
public class IngestionBenchmarks
{
    private const int Rankings = 10_000;
    private string _directory = "";
    private SqliteEventStore _store = null!;
    private EventIngestor _ingestor = null!;
    private EventInput[] _batch = [];
    private long _next;

    [Params(100, 1_000)]
    public int BatchSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "lasthope-bench-ingest-" + Guid.NewGuid().ToString("N"));
        _store = SqliteEventStore.OpenAsync(new SqliteStoreOptions { DataDirectory = _directory }).GetAwaiter().GetResult();
        var options = new LasthopeOptions();
        var time = TimeProvider.System;
        var recent = new RecentRankings(Rankings);
        var now = time.GetUtcNow();
        var logs = new List<RankingLog>(Rankings);
        for (var r = 0; r < Rankings; r++)
        {
            logs.Add(new RankingLog
            {
                RequestId = $"req-{r}",
                Time = now,
                UserId = $"user-{r % 5000}",
                Segment = "f:25-34",
                Surface = "home",
                Items = [.. Enumerable.Range(0, 10).Select(i => new ServedItem($"item-{(r + i) % 1000}", i + 1, 0, ItemSource.Heuristic))],
            });
        }

        foreach (var log in logs)
        {
            recent.Add(log);
        }

        _store.AppendRankingsAsync(logs).GetAwaiter().GetResult();
        // The counters as the server builds them, with the users' history (the user-history features and fold-in read it).
        var state = new CounterState(options.Counters, options.Heuristic, time, new UserHistory(options.Limits.MaxHistoryUsers, options.Recommend.MaxUserEvents));
        _ingestor = new EventIngestor(_store, state, recent, new UserSegments(), options.Events, time, metrics: null);
        _batch = new EventInput[BatchSize];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = 1_000)]
    public async Task<int> IngestEvents()
    {
        // OperationsPerInvoke must be a constant: run 1,000 events as 1,000 / BatchSize batches.
        var accepted = 0;
        for (var b = 0; b < 1_000 / BatchSize; b++)
        {
            for (var i = 0; i < _batch.Length; i++)
            {
                var n = _next++;
                var request = n % Rankings;
                _batch[i] = new EventInput($"ev-{n}", $"item-{(request + (n % 10)) % 1000}", UserId: $"user-{request % 5000}", RequestId: $"req-{request}");
            }

            accepted += (await _ingestor.IngestAsync(_batch)).Accepted;
        }

        return accepted;
    }
}
