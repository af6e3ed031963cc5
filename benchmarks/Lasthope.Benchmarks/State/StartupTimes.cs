using System.Diagnostics;
using System.Globalization;
using Lasthope.Core.Events;
using Lasthope.Core.Serving;
using Lasthope.Counters;
using Lasthope.Server.State;
using Lasthope.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lasthope.Benchmarks.State;

/// <summary>
/// Start-up time against log length: a SQLite log of N entries (rankings of 5 items among 50,000, and a click on
/// every other one, spread over 90% of the long window, so that a full replay reads them all) is rebuilt into counters twice in the same run: by replaying the
/// whole log (what every start did before snapshots), and from a snapshot taken at 99% of the log plus the last 1%.
/// Prints both times and their ratio. <c>dotnet run -c Release --project benchmarks/Lasthope.Benchmarks -- --startup 1000000 10000000</c>.
/// </summary>
internal static class StartupTimes
{
    public static async Task<int> RunAsync(string[] sizes)
    {
        Console.WriteLine("entries,log_seconds_to_write,replay_seconds,snapshot_bytes,snapshot_seconds_to_write,restart_from_snapshot_seconds,tail_entries,speedup");
        foreach (var size in sizes.Select(s => long.Parse(s, CultureInfo.InvariantCulture)))
        {
            await MeasureAsync(size);
        }

        return 0;
    }

    private static async Task MeasureAsync(long entries)
    {
        var directory = Path.Combine(Path.GetTempPath(), "lasthope-startup-" + Guid.NewGuid().ToString("N"));
        var now = DateTimeOffset.UtcNow;
        var time = TimeProvider.System;
        var options = new CounterOptions();
        var heuristic = new HeuristicOptions();
        try
        {
            await using var store = SqliteEventStore.Open(new SqliteStoreOptions { DataDirectory = directory });
            var writing = Stopwatch.StartNew();
            var head = (long)(entries * 0.99);
            await WriteLogAsync(store, 0, head, entries, now, options.LongWindow * 0.9);
            var writeSeconds = writing.Elapsed.TotalSeconds;

            // Before: a start replays the whole log. After: it loads the snapshot, then reads the log after it.
            var replaying = Stopwatch.StartNew();
            var replayed = new CounterState(options, heuristic, time);
            await replayed.ReplayAsync(store, new UserSegments(), NullLogger.Instance, CancellationToken.None);
            var snapshotWriting = Stopwatch.StartNew();
            var bytes = await replayed.SaveSnapshotAsync(store, CancellationToken.None);
            var snapshotSeconds = snapshotWriting.Elapsed.TotalSeconds;
            await WriteLogAsync(store, head, entries, entries, now, options.LongWindow * 0.9);
            GC.Collect();

            replaying.Restart();
            var full = new CounterState(options, heuristic, time);
            var fullReplay = await ReplayWithoutSnapshotAsync(store, full);
            var replaySeconds = replaying.Elapsed.TotalSeconds;
            GC.Collect();

            var restarting = Stopwatch.StartNew();
            var restored = new CounterState(options, heuristic, time);
            await restored.ReplayAsync(store, new UserSegments(), NullLogger.Instance, CancellationToken.None);
            var restartSeconds = restarting.Elapsed.TotalSeconds;
            if (restored.SnapshotSequence is null || fullReplay != entries)
            {
                throw new InvalidOperationException($"the benchmark did not measure what it claims (snapshot {restored.SnapshotSequence}, replayed {fullReplay} of {entries})");
            }

            Console.WriteLine(string.Join(',', entries, F(writeSeconds), F(replaySeconds), bytes, F(snapshotSeconds), F(restartSeconds), restored.Replayed, F(replaySeconds / restartSeconds)));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The whole-log replay a start did before snapshots: the snapshot is moved aside for it, then put back.</summary>
    private static async Task<long> ReplayWithoutSnapshotAsync(SqliteEventStore store, CounterState state)
    {
        var snapshot = await store.LoadSnapshotAsync(CounterState.SnapshotName);
        await store.SaveSnapshotAsync(CounterState.SnapshotName, []);
        await state.ReplayAsync(store, new UserSegments(), NullLogger.Instance, CancellationToken.None);
        await store.SaveSnapshotAsync(CounterState.SnapshotName, snapshot!);
        return state.Replayed;
    }

    private static async Task WriteLogAsync(SqliteEventStore store, long from, long to, long total, DateTimeOffset now, TimeSpan window)
    {
        const int Batch = 5_000;
        var random = new Random((int)from);
        var span = window.Ticks;
        for (var start = from; start < to; start += Batch)
        {
            var rankings = new List<RankingLog>();
            var events = new List<InteractionEvent>();
            for (var n = start; n < Math.Min(to, start + Batch); n++)
            {
                var at = now - TimeSpan.FromTicks((long)(span * (1 - ((double)n / total)))); // in double: span * n overflows a long
                var segment = $"{(n % 2 == 0 ? "f" : "m")}:{25 + (10 * (n % 5))}";
                if (n % 2 == 0)
                {
                    var items = Enumerable.Range(0, 5).Select(p => new ServedItem($"item-{random.Next(50_000)}", p + 1, 1, ItemSource.Heuristic)).ToArray();
                    rankings.Add(new RankingLog { RequestId = $"r{n}", Time = at, UserId = $"u{n % 100_000}", Segment = segment, Surface = "home", Items = items });
                }
                else
                {
                    events.Add(new InteractionEvent { EventId = $"e{n}", Type = "click", Weight = 1, ItemId = $"item-{random.Next(50_000)}", UserId = $"u{n % 100_000}", RequestId = $"r{n - 1}", Time = at, Segment = segment, Position = 1 + random.Next(5) });
                }
            }

            await store.AppendRankingsAsync(rankings);
            await store.AppendEventsAsync(events);
        }
    }

    private static string F(double value) => value.ToString("F2", CultureInfo.InvariantCulture);
}
