using Lasthope.Server.State;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Lasthope.Server.Tests;

/// <summary>
/// Counter snapshots: a restart from the newest snapshot and the log after it counts exactly what a replay of the
/// whole log counts, even when the snapshot was taken while rankings and clicks kept coming.
/// </summary>
public sealed class SnapshotTests
{
    private static readonly string[] Items = ["a", "b", "c", "d", "e", "f"];

    /// <summary>No periodic or shutdown snapshot: the test takes them itself.</summary>
    private static readonly Dictionary<string, string?> ManualSnapshots = new() { ["Lasthope:State:SnapshotIntervalSeconds"] = "0" };

    [Fact]
    public async Task ASnapshotAndTheLogAfterIt_CountWhatAFullReplayCounts_OverHttp()
    {
        var directory = LoopbackServer.NewDataDirectory();
        var clock = new FakeTimeProvider(LoopbackServer.DefaultNow.AddDays(-2));
        var live = new Dictionary<string, string>();
        var first = await LoopbackServer.StartAsync(ManualSnapshots, dataDirectory: directory, clock: clock);
        try
        {
            var follower = first.Server.Services.GetRequiredService<LogFollower>();
            await TrafficAsync(first, worker: 0, requests: 80);
            await first.FlushAsync();
            await follower.SnapshotAsync(CancellationToken.None);
            clock.Advance(TimeSpan.FromMinutes(5));
            await TrafficAsync(first, worker: 9, requests: 40); // after the last snapshot: the restart reads it from the log
            await first.FlushAsync();
            foreach (var item in Items)
            {
                live[item] = await first.Client.GetStringAsync($"/v1/items/{item}/stats");
            }
        }
        finally
        {
            await first.StopKeepingDataAsync();
        }

        var fromSnapshot = await LoopbackServer.StartAsync(ManualSnapshots, dataDirectory: directory, clock: clock);
        try
        {
            Assert.NotNull(fromSnapshot.State.SnapshotSequence);
            var logged = await fromSnapshot.Store.CountAsync();
            Assert.True(fromSnapshot.State.Replayed < logged.Rankings + logged.Events, $"{fromSnapshot.State.Replayed} entries replayed: the snapshot saved nothing");
            Assert.True(fromSnapshot.State.Replayed >= 40, "the entries after the last snapshot must be read from the log");
            foreach (var item in Items)
            {
                Assert.Equal(live[item], await fromSnapshot.Client.GetStringAsync($"/v1/items/{item}/stats"));
            }
        }
        finally
        {
            await fromSnapshot.StopKeepingDataAsync();
        }

        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(directory, "lasthope.db")};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM snapshots";
            Assert.Equal(1, await command.ExecuteNonQueryAsync());
        }

        await using var replayed = await LoopbackServer.StartAsync(ManualSnapshots, dataDirectory: directory, clock: clock);
        Assert.Null(replayed.State.SnapshotSequence);
        foreach (var item in Items)
        {
            Assert.Equal(live[item], await replayed.Client.GetStringAsync($"/v1/items/{item}/stats"));
        }

        await replayed.StopKeepingDataAsync();
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task ASnapshotTakenWhileServingAndFollowing_AndTheLogAfterIt_CountEveryEntryOnce()
    {
        var time = new FakeTimeProvider(LoopbackServer.DefaultNow);
        var options = new Counters.CounterOptions();
        var heuristic = new Counters.HeuristicOptions();
        var store = new Core.Storage.InMemoryEventStore();
        var live = new CounterState(options, heuristic, time);
        var users = new UserSegments();
        string[] items = [.. Enumerable.Range(0, 3000).Select(i => $"item-{i}")];
        using var done = new CancellationTokenSource();

        // This server serves and appends; "another" appends rankings and events it never counted itself, which the
        // follower brings in. Snapshots are taken meanwhile, as fast as they go.
        async Task ServeAsync(int seed, bool own)
        {
            var random = new Random(seed);
            for (var i = 0; i < 20_000; i++)
            {
                var shown = Enumerable.Range(0, 5).Select(p => new Core.Events.ServedItem(items[random.Next(items.Length)], p + 1, 1, Core.Serving.ItemSource.Heuristic)).DistinctBy(s => s.ItemId).ToArray();
                var ranking = new Core.Events.RankingLog { RequestId = $"{seed}-{i}", Time = time.GetUtcNow(), UserId = $"u{i % 50}", Segment = i % 2 == 0 ? "f:25-34" : "m:35-44", Surface = "home", Items = shown };
                if (own)
                {
                    live.ApplyServed(ranking);
                }

                await store.AppendRankingsAsync([ranking]);
                Core.Events.InteractionEvent click = new() { EventId = $"{seed}-{i}-e", Type = "click", Weight = 1, ItemId = shown[0].ItemId, UserId = ranking.UserId, RequestId = ranking.RequestId, Time = ranking.Time, Segment = ranking.Segment, Position = 1 };
                var sequences = await store.AppendEventsWithSequencesAsync([click]);
                if (own)
                {
                    live.ApplyAppended([click], sequences);
                }
            }
        }

        var serving = Task.WhenAll(Task.Run(() => ServeAsync(1, own: true)), Task.Run(() => ServeAsync(2, own: false)));
        var following = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                await live.FollowAsync(store, users, null, CancellationToken.None);
            }
        });
        var snapshots = 0;
        long underTraffic = 0;
        while (!serving.IsCompleted)
        {
            await live.SaveSnapshotAsync(store, CancellationToken.None);
            snapshots++;
            underTraffic = serving.IsCompleted ? underTraffic : snapshots;
        }

        await serving;
        await done.CancelAsync();
        await following;
        await live.FollowAsync(store, users, null, CancellationToken.None);
        Assert.True(underTraffic >= 3, $"only {underTraffic} snapshots were taken while traffic ran");

        var restored = new CounterState(options, heuristic, time);
        await restored.ReplayAsync(store, new UserSegments(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, CancellationToken.None);
        Assert.NotNull(restored.SnapshotSequence);
        Assert.True(restored.Replayed > 0, "the log after the last snapshot must be read");
        var global = (live.Counters.GlobalTallies(), restored.Counters.GlobalTallies());
        Assert.Equal(global.Item1.LongWindow, global.Item2.LongWindow);
        Assert.Equal(40_000, global.Item1.LongWindow.Clicks); // 2 servers x 20,000 clicks, each counted once
        foreach (var item in items)
        {
            foreach (var segment in new[] { "f:25-34", "m:35-44" })
            {
                Assert.Equal(live.Counters.ReadTallies(item, segment), restored.Counters.ReadTallies(item, segment));
            }
        }
    }

    [Fact]
    public async Task ADamagedSnapshot_IsNotUsed_TheLogIsReplayedInstead()
    {
        var directory = LoopbackServer.NewDataDirectory();
        var clock = new FakeTimeProvider(LoopbackServer.DefaultNow);
        var live = new Dictionary<string, string>();
        var first = await LoopbackServer.StartAsync(dataDirectory: directory, clock: clock);
        try
        {
            await TrafficAsync(first, worker: 0, requests: 30);
            await first.FlushAsync();
            foreach (var item in Items)
            {
                live[item] = await first.Client.GetStringAsync($"/v1/items/{item}/stats");
            }
        }
        finally
        {
            await first.StopKeepingDataAsync(); // the default schedule writes a snapshot at shutdown
        }

        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(directory, "lasthope.db")};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "UPDATE snapshots SET content = substr(content, 1, length(content) / 2)";
            Assert.Equal(1, await command.ExecuteNonQueryAsync());
        }

        await using var restarted = await LoopbackServer.StartAsync(dataDirectory: directory, clock: clock);
        Assert.Null(restarted.State.SnapshotSequence);
        foreach (var item in Items)
        {
            Assert.Equal(live[item], await restarted.Client.GetStringAsync($"/v1/items/{item}/stats"));
        }

        await restarted.StopKeepingDataAsync();
        Directory.Delete(directory, recursive: true);
    }

    /// <summary>Rankings for users of two segments and clicks on a seeded share of them.</summary>
    internal static async Task TrafficAsync(LoopbackServer server, int worker, int requests)
    {
        var random = new Random(worker);
        for (var i = 0; i < requests; i++)
        {
            var id = $"w{worker}-r{i}";
            var ranking = await server.RankAsync(new { requestId = id, user = new { id = $"u{i % 13}", age = 20 + (i % 40), gender = i % 2 == 0 ? "f" : "m" }, candidates = Items, count = 4 });
            if (random.NextDouble() < 0.5)
            {
                var item = ranking.GetProperty("items")[random.Next(4)].GetProperty("id").GetString();
                await server.PostEventsAsync(new { eventId = $"{id}-e", itemId = item, requestId = id });
            }
        }
    }
}
