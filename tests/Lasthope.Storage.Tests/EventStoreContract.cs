using Lasthope.Core.Events;
using Lasthope.Core.Serving;
using Lasthope.Core.Storage;

namespace Lasthope.Storage.Tests;

/// <summary>
/// The contract every <see cref="IEventStore"/> keeps. Each implementation is a subclass of a few lines; a new backend
/// (Redis, PostgreSQL) joins by adding one.
/// </summary>
public abstract class EventStoreContract : IAsyncLifetime
{
    protected static readonly DateTimeOffset T0 = new(2026, 5, 4, 10, 0, 0, TimeSpan.Zero);

    private readonly List<IEventStore> _opened = [];

    /// <summary>Opens a fresh, empty store.</summary>
    protected abstract Task<IEventStore> CreateStoreAsync();

    /// <summary>
    /// Closes <paramref name="store"/> and opens the same one again, or returns null for stores that do not outlive
    /// their process.
    /// </summary>
    protected abstract Task<IEventStore?> ReopenAsync(IEventStore store);

    protected async Task<IEventStore> OpenAsync()
    {
        var store = await CreateStoreAsync();
        _opened.Add(store);
        return store;
    }

    protected void Track(IEventStore store) => _opened.Add(store);

    /// <summary>
    /// Another writer on the same log: a second server on the same database where the backend has several, else
    /// <paramref name="store"/> itself (an embedded store has one writer per file).
    /// </summary>
    protected virtual Task<IEventStore> OpenSecondWriterAsync(IEventStore store) => Task.FromResult(store);

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public virtual async ValueTask DisposeAsync()
    {
        foreach (var store in _opened)
        {
            await store.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }

    protected static RankingLog Ranking(string requestId, DateTimeOffset time, string? user = "u1", string segment = "f:25-34", params string[] items) => new()
    {
        RequestId = requestId,
        Time = time,
        UserId = user,
        Segment = segment,
        Surface = "home",
        Items = [.. items.Select((id, i) => new ServedItem(id, i + 1, 1.0 / (i + 1), ItemSource.Heuristic))],
        ServedBy = ServedBy.HeuristicFallback,
        FallbackReason = FallbackReason.Timeout,
        ModelVersion = "m1",
        HeuristicVersion = "ctr-v1",
        RerankDepth = 0,
        BudgetMs = 80,
        Experiment = new ExperimentArm("exp1", "treatment"),
        TimingsMs = new Dictionary<string, double> { ["heuristic"] = 0.4 },
        Notes = ["unknown_items"],
        Features = new FeatureLog(["ctr7d", "price"], [.. items], [.. items.SelectMany(_ => new[] { 0.1, double.NaN })]),
    };

    protected static InteractionEvent Event(string id, DateTimeOffset time, string item = "a", string? requestId = "r1", double weight = 1) => new()
    {
        EventId = id,
        Type = "click",
        Weight = weight,
        ItemId = item,
        UserId = "u1",
        RequestId = requestId,
        Time = time,
        Segment = "f:25-34",
        Position = requestId is null ? null : 1,
        Surface = "home",
    };

    [Fact]
    public async Task Items_AreStoredExactly_ALaterWriteReplacesTheWhole_AndTheyOutliveTheProcess()
    {
        var store = await OpenAsync();
        var items = (IItemStore)store;
        await items.UpsertItemsAsync(
        [
            new("a", "sports", new Dictionary<string, double> { ["price"] = 0.1, ["length"] = -1e300 }, T0),
            new("b", null, new Dictionary<string, double>(), T0),
            new("c", "x", new Dictionary<string, double> { ["w"] = 0.1, ["tiny"] = -4.9e-324, ["big"] = 1.7976931348623157e308 }, T0),
        ]);
        await items.UpsertItemsAsync([new("a", "news", new Dictionary<string, double> { ["price"] = 2.5 }, T0.AddHours(1))]);

        async Task Check(IEventStore s)
        {
            var read = new Dictionary<string, Core.Items.ItemAttributes>();
            await foreach (var item in ((IItemStore)s).ReadItemsAsync())
            {
                read[item.ItemId] = item;
            }

            Assert.Equal(3, read.Count);
            Assert.Equal(new Dictionary<string, double> { ["w"] = 0.1, ["tiny"] = -4.9e-324, ["big"] = 1.7976931348623157e308 }, read["c"].Numbers);
            Assert.Equal(("news", T0.AddHours(1)), (read["a"].Category, read["a"].UpdatedAt));
            Assert.Equal(new Dictionary<string, double> { ["price"] = 2.5 }, read["a"].Numbers);
            Assert.Null(read["b"].Category);
            Assert.Empty(read["b"].Numbers);
        }

        await Check(store);
        if (await ReopenAsync(store) is { } reopened)
        {
            Track(reopened);
            await Check(reopened);
        }
    }

    [Fact]
    public async Task AppendEvents_CountsARepeatedEventIdOnce_WithinAndAcrossBatches()
    {
        var store = await OpenAsync();
        var first = await store.AppendEventsAsync([Event("e1", T0), Event("e2", T0), Event("e1", T0)]);
        Assert.Equal([true, true, false], first);
        var second = await store.AppendEventsAsync([Event("e2", T0), Event("e3", T0)]);
        Assert.Equal([false, true], second);
        Assert.Equal(3, (await store.CountAsync()).Events);
    }

    [Fact]
    public async Task FindRanking_ReturnsTheWholeServedPathContract()
    {
        var store = await OpenAsync();
        var ranking = Ranking("r1", T0, items: ["a", "b", "c"]);
        await store.AppendRankingsAsync([ranking]);
        var found = await store.FindRankingAsync("r1");
        Assert.NotNull(found);
        Assert.Equal(ranking.RequestId, found.RequestId);
        Assert.Equal(ranking.Time, found.Time);
        Assert.Equal(ranking.Items, found.Items);
        Assert.Equal(ServedBy.HeuristicFallback, found.ServedBy);
        Assert.Equal(FallbackReason.Timeout, found.FallbackReason);
        Assert.Equal("m1", found.ModelVersion);
        Assert.Equal(new ExperimentArm("exp1", "treatment"), found.Experiment);
        Assert.Equal(0.4, found.TimingsMs!["heuristic"]);
        Assert.Equal(["unknown_items"], found.Notes!);
        Assert.Equal(ranking.Features!.Names, found.Features!.Names);
        Assert.Equal(6, found.Features.Values.Length);
        Assert.True(double.IsNaN(found.Features.Values[1]), "a missing feature value (NaN) must survive the log");
        Assert.Null(await store.FindRankingAsync("nope"));
    }

    [Fact]
    public async Task AppendRankings_IgnoresARepeatedRequestId_AndCountsImpressions()
    {
        var store = await OpenAsync();
        await store.AppendRankingsAsync([Ranking("r1", T0, items: ["a", "b"]), Ranking("r2", T0, items: ["c"])]);
        await store.AppendRankingsAsync([Ranking("r1", T0, items: ["x", "y", "z"])]);
        var counts = await store.CountAsync();
        Assert.Equal(2, counts.Rankings);
        Assert.Equal(3, counts.Impressions);
        Assert.Equal(["a", "b"], (await store.FindRankingAsync("r1"))!.Items.Select(i => i.ItemId));
    }

    [Fact]
    public async Task ReadLog_ReturnsRankingsAndEventsInAppendOrder_FromTheGivenTime()
    {
        var store = await OpenAsync();
        await store.AppendRankingsAsync([Ranking("old", T0.AddDays(-40), items: ["a"])]);
        await store.AppendEventsAsync([Event("e-old", T0.AddDays(-40))]);
        await store.AppendRankingsAsync([Ranking("r1", T0, items: ["a"])]);
        await store.AppendEventsAsync([Event("e1", T0.AddMinutes(1)), Event("e2", T0.AddMinutes(2))]);
        await store.AppendRankingsAsync([Ranking("r2", T0.AddMinutes(3), items: ["b"])]);
        await store.AppendEventsAsync([Event("e3", T0.AddMinutes(-5))]); // late: appended last, happened earlier

        var entries = new List<LogEntry>();
        await foreach (var entry in store.ReadLogAsync(T0.AddDays(-30)))
        {
            entries.Add(entry);
        }

        Assert.Equal(["r1", "e1", "e2", "r2", "e3"], entries.Select(e => e.Ranking?.RequestId ?? e.Event!.EventId));
        var events = new List<string>();
        await foreach (var e in store.ReadEventsAsync(T0.AddDays(-30)))
        {
            events.Add(e.EventId);
        }

        Assert.Equal(["e1", "e2", "e3"], events);

        var counting = new List<CountingEntry>();
        await foreach (var c in store.ReadCountingLogAsync(T0.AddDays(-30)))
        {
            counting.Add(c);
        }

        Assert.Equal(entries.Select(e => e.Sequence), counting.Select(c => c.Sequence));
        Assert.Equal([new Impression("a", 1)], counting[0].Impressions!);
        Assert.Equal(("f:25-34", "u1", T0), (counting[0].Segment, counting[0].UserId, counting[0].Time));
        Assert.Equal("e1", counting[1].Event!.EventId);
        Assert.True(entries.Zip(entries.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence));
        var e1 = entries[1].Event!;
        Assert.Equal(Event("e1", T0.AddMinutes(1)), e1);
    }

    [Fact]
    public async Task UserSegment_IsTheSegmentOfTheLatestRankingServedToTheUser()
    {
        var store = await OpenAsync();
        await store.AppendRankingsAsync([Ranking("r1", T0, user: "u7", segment: "m:35-44", items: ["a"])]);
        Assert.Equal("m:35-44", await store.FindUserSegmentAsync("u7"));
        await store.AppendRankingsAsync([Ranking("r2", T0, user: "u7", segment: "m:45-54", items: ["a"])]);
        Assert.Equal("m:45-54", await store.FindUserSegmentAsync("u7"));
        await store.AppendRankingsAsync([Ranking("r3", T0, user: "u7", segment: "unknown", items: ["a"])]);
        Assert.Equal("m:45-54", await store.FindUserSegmentAsync("u7"));
        Assert.Null(await store.FindUserSegmentAsync("u8"));
        Assert.Equal(1, (await store.CountAsync()).Users);
    }

    [Fact]
    public async Task UserEvents_AreTheUsersLatestFirst_UpToTheLimit()
    {
        var store = await OpenAsync();
        await store.AppendEventsAsync([Event("e1", T0, item: "a"), Event("e2", T0, item: "b"), Event("e3", T0, item: "c") with { UserId = "other" }, Event("e4", T0, item: "d")]);
        var latest = await store.ReadUserEventsAsync("u1", 2);
        Assert.Equal(["d", "b"], latest.Select(e => e.ItemId));
        Assert.Empty(await store.ReadUserEventsAsync("nobody", 5));
    }

    [Fact]
    public async Task Settings_RoundTripAndReplace()
    {
        var store = await OpenAsync();
        Assert.Null(await store.GetSettingAsync("position-curve"));
        await store.SetSettingAsync("position-curve", "1;0.5");
        await store.SetSettingAsync("position-curve", "1;0.6");
        Assert.Equal("1;0.6", await store.GetSettingAsync("position-curve"));
    }

    [Fact]
    public async Task Reopen_KeepsEverything_AndContinuesTheSequence()
    {
        var store = await OpenAsync();
        await store.AppendRankingsAsync([Ranking("r1", T0, items: ["a", "b"])]);
        await store.AppendEventsAsync([Event("e1", T0)]);
        await store.SetSettingAsync("k", "v");
        var reopened = await ReopenAsync(store);
        if (reopened is null)
        {
            return; // an in-process store has nothing to reopen; durability does not apply to it
        }

        Track(reopened);
        Assert.Equal(new StoreCounts(1, 2, 1, 1), await reopened.CountAsync());
        Assert.Equal("v", await reopened.GetSettingAsync("k"));
        var appended = await reopened.AppendEventsAsync([Event("e1", T0), Event("e2", T0)]);
        Assert.Equal([false, true], appended);
        var sequences = new List<long>();
        await foreach (var entry in reopened.ReadLogAsync(DateTimeOffset.MinValue))
        {
            sequences.Add(entry.Sequence);
        }

        Assert.Equal(3, sequences.Count);
        Assert.Equal(sequences.Order(), sequences);
        Assert.Equal(sequences.Count, sequences.Distinct().Count());
    }

    /// <summary>Ids a store must keep exactly: separators, controls, astral planes, an empty list of items.</summary>
    public static TheoryData<string[]> AwkwardItemLists => new(
        Array.Empty<string>(),
        new[] { "a\u001fb" },
        new[] { "1\u001e2", "\u001f", "\u001e" },
        new[] { "x\u0000y", "tab\there", "line\nbreak" },
        new[] { "café", "日本語", "😀🎉", "\u202eright-to-left" },
        new[] { "", " " });

    [Theory]
    [MemberData(nameof(AwkwardItemLists))]
    public async Task AnyItemIds_AndAnEmptyList_ReadBackExactly_AfterAReopen(string[] items)
    {
        var store = await OpenAsync();
        await store.AppendRankingsAsync([Ranking("r\u001f1", T0, user: "ü\u001e", items: items)]);
        await store.AppendEventsAsync([Event("e\u001f1", T0, item: items.FirstOrDefault() ?? "z", requestId: "r\u001f1")]);
        var reopened = await ReopenAsync(store) ?? store;
        if (!ReferenceEquals(reopened, store))
        {
            Track(reopened);
        }

        var expected = items.Select((id, i) => new Impression(id, i + 1)).ToArray();
        var counting = new List<CountingEntry>();
        await foreach (var entry in reopened.ReadCountingLogAsync(DateTimeOffset.MinValue))
        {
            counting.Add(entry);
        }

        Assert.Equal(2, counting.Count);
        Assert.Equal(expected, counting[0].Impressions!);
        Assert.Equal("ü\u001e", counting[0].UserId);
        Assert.Equal(items.FirstOrDefault() ?? "z", counting[1].Event!.ItemId);
        Assert.Equal(items, (await reopened.FindRankingAsync("r\u001f1"))!.Items.Select(i => i.ItemId));
        var log = new List<LogEntry>();
        await foreach (var entry in reopened.ReadLogAsync(DateTimeOffset.MinValue))
        {
            log.Add(entry);
        }

        Assert.Equal(items, log[0].Ranking!.Items.Select(i => i.ItemId));
        Assert.Equal(new StoreCounts(1, items.Length, 1, 1), await reopened.CountAsync());
        Assert.Equal(0, reopened.Skipped.Count);
    }

    [Fact]
    public async Task AppendEventsWithSequences_GivesEachNewEventItsLogSequence_AndADuplicateZero()
    {
        var store = await OpenAsync();
        await store.AppendRankingsAsync([Ranking("r1", T0, items: ["a"])]);
        var sequences = await store.AppendEventsWithSequencesAsync([Event("e1", T0), Event("e1", T0), Event("e2", T0)]);
        Assert.Equal(0, sequences[1]);
        Assert.True(sequences[0] > 0 && sequences[2] > sequences[0]);
        var repeated = await store.AppendEventsWithSequencesAsync([Event("e2", T0)]);
        Assert.Equal([0L], repeated);
        var log = new List<LogEntry>();
        await foreach (var entry in store.ReadLogAsync(DateTimeOffset.MinValue))
        {
            log.Add(entry);
        }

        Assert.Equal([sequences[0], sequences[2]], log.Where(e => e.Event is not null).Select(e => e.Sequence));
        Assert.True(log[0].Sequence < sequences[0]);
    }

    [Fact]
    public async Task ReadCountingLogAfter_ReturnsWhatFollowsTheSequence_InOrder_UpToTheLimit_WhateverItsTime()
    {
        var store = await OpenAsync();
        await store.AppendRankingsAsync([Ranking("r1", T0.AddDays(-400), items: ["a", "b"])]);
        await store.AppendEventsAsync([Event("e1", T0), Event("e2", T0)]);
        await store.AppendRankingsAsync([Ranking("r2", T0, items: ["c"]) with { Surface = "search" }]);
        var all = new List<CountingEntry>();
        await foreach (var entry in store.ReadCountingLogAfterAsync(0, 100))
        {
            all.Add(entry);
        }

        Assert.Equal(4, all.Count);
        Assert.True(all.Zip(all.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence));
        Assert.Equal(("r1", "home", T0.AddDays(-400)), (all[0].RequestId, all[0].Surface, all[0].Time));
        Assert.Equal([new Impression("a", 1), new Impression("b", 2)], all[0].Impressions!);
        Assert.Equal(("r2", "search"), (all[3].RequestId, all[3].Surface));
        Assert.Equal("e1", all[1].Event!.EventId);

        var page = new List<CountingEntry>();
        await foreach (var entry in store.ReadCountingLogAfterAsync(all[0].Sequence, 2))
        {
            page.Add(entry);
        }

        Assert.Equal(all.Skip(1).Take(2).Select(e => e.Sequence), page.Select(e => e.Sequence));
        await foreach (var entry in store.ReadCountingLogAfterAsync(all[^1].Sequence, 10))
        {
            Assert.Fail($"nothing follows the last entry, yet {entry.Sequence} was read");
        }
    }

    [Fact]
    public async Task AFollower_ReadingWhileTwoWritersAppend_SeesEveryEntryOnce_InSequenceOrder()
    {
        var store = await OpenAsync();
        var second = await OpenSecondWriterAsync(store);
        if (!ReferenceEquals(second, store))
        {
            Track(second);
        }

        const int Batches = 60;
        async Task Write(IEventStore writer, string name)
        {
            for (var i = 0; i < Batches; i++)
            {
                await writer.AppendEventsAsync([Event($"{name}-{i}-a", T0), Event($"{name}-{i}-b", T0)]);
                await writer.AppendRankingsAsync([Ranking($"{name}-r{i}", T0, items: ["x"])]);
            }
        }

        var writing = Task.WhenAll(Task.Run(() => Write(store, "one")), Task.Run(() => Write(second, "two")));
        var followed = new List<long>();
        var cursor = 0L;
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (followed.Count < Batches * 6 && DateTime.UtcNow < deadline)
        {
            await foreach (var entry in store.ReadCountingLogAfterAsync(cursor, 7))
            {
                Assert.True(entry.Sequence > cursor, $"entry {entry.Sequence} read after {cursor}");
                cursor = entry.Sequence;
                followed.Add(entry.Sequence);
            }
        }

        await writing;
        var logged = new List<long>();
        await foreach (var entry in store.ReadLogAsync(DateTimeOffset.MinValue))
        {
            logged.Add(entry.Sequence);
        }

        Assert.Equal(Batches * 6, logged.Count);
        Assert.Equal(logged, followed);
    }

    [Fact]
    public async Task Snapshots_RoundTripReplaceAndOutliveTheProcess()
    {
        var store = await OpenAsync();
        var snapshots = (ISnapshotStore)store;
        Assert.Null(await snapshots.LoadSnapshotAsync("counters"));
        byte[] big = [.. Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7))];
        await snapshots.SaveSnapshotAsync("counters", [1, 2, 3]);
        await snapshots.SaveSnapshotAsync("counters", big);
        await snapshots.SaveSnapshotAsync("other", [0]);
        Assert.Equal(big, await snapshots.LoadSnapshotAsync("counters"));
        if (await ReopenAsync(store) is { } reopened)
        {
            Track(reopened);
            Assert.Equal(big, await ((ISnapshotStore)reopened).LoadSnapshotAsync("counters"));
            Assert.Equal([0], await ((ISnapshotStore)reopened).LoadSnapshotAsync("other"));
        }
    }

    private static ModelRecord Model(string version, string surface = "home", int seconds = 0) => new()
    {
        Version = version,
        Surface = surface,
        Kind = "lightgbm",
        FeatureNames = ["heuristic_score", "ctr7d_segment"],
        Fingerprint = "sha256:abc",
        Parameters = "{\"num_leaves\":63}",
        TrainedFrom = T0.AddDays(-7),
        TrainedTo = T0,
        Metrics = "{\"ndcg@10\":0.41}",
        RegisteredAt = T0.AddSeconds(seconds),
        Content = [1, 2, 3, 4],
    };

    [Fact]
    public async Task Models_AreSavedFoundAndListedNewestFirst_WithoutContentInTheList()
    {
        var models = (IModelStore)await OpenAsync();
        await models.SaveModelAsync(Model("v1", seconds: 1));
        await models.SaveModelAsync(Model("v2", seconds: 2));
        var found = await models.FindModelAsync("v1");
        Assert.NotNull(found);
        Assert.Equal(Model("v1", seconds: 1).FeatureNames, found.FeatureNames);
        Assert.Equal([1, 2, 3, 4], found.Content);
        Assert.Equal(T0.AddDays(-7), found.TrainedFrom);
        Assert.Equal("{\"ndcg@10\":0.41}", found.Metrics);
        var list = await models.ListModelsAsync();
        Assert.Equal(["v2", "v1"], list.Select(m => m.Version));
        Assert.All(list, m => Assert.Empty(m.Content));
        Assert.Null(await models.FindModelAsync("v3"));
    }

    [Fact]
    public async Task Models_ARepeatedVersionIsRefused()
    {
        var models = (IModelStore)await OpenAsync();
        await models.SaveModelAsync(Model("v1"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => models.SaveModelAsync(Model("v1")));
    }

    [Fact]
    public async Task ActiveModels_ArePerSurface_AndCanBeCleared()
    {
        var store = await OpenAsync();
        var models = (IModelStore)store;
        await models.SaveModelAsync(Model("v1"));
        await models.SaveModelAsync(Model("v2", surface: "search"));
        await models.SetActiveModelAsync("home", "v1");
        await models.SetActiveModelAsync("search", "v2");
        await models.SetActiveModelAsync("home", "v2");
        var active = await models.GetActiveModelsAsync();
        Assert.Equal("v2", active["home"]);
        Assert.Equal("v2", active["search"]);
        await models.SetActiveModelAsync("search", null);
        Assert.False((await models.GetActiveModelsAsync()).ContainsKey("search"));

        var reopened = await ReopenAsync(store);
        if (reopened is not null)
        {
            Track(reopened);
            Assert.Equal("v2", (await ((IModelStore)reopened).GetActiveModelsAsync())["home"]);
            Assert.NotNull(await ((IModelStore)reopened).FindModelAsync("v1"));
        }
    }
}
