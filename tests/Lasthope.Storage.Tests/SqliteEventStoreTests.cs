using Lasthope.Core.Storage;
using Lasthope.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Lasthope.Storage.Tests;

public sealed class SqliteEventStoreTests : EventStoreContract
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "lasthope-store-" + Guid.NewGuid().ToString("N"));

    protected override async Task<IEventStore> CreateStoreAsync()
        => await SqliteEventStore.OpenAsync(new SqliteStoreOptions { DataDirectory = _directory });

    protected override async Task<IEventStore?> ReopenAsync(IEventStore store)
    {
        await store.DisposeAsync();
        return await SqliteEventStore.OpenAsync(new SqliteStoreOptions { DataDirectory = _directory });
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Open_UsesWriteAheadLogging()
    {
        var store = (SqliteEventStore)await OpenAsync();
        await using var connection = new SqliteConnection($"Data Source={store.DatabasePath}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", await command.ExecuteScalarAsync() as string);
    }

    [Fact]
    public async Task Open_RefusesADatabaseFromANewerVersion()
    {
        var store = (SqliteEventStore)await OpenAsync();
        var path = store.DatabasePath;
        await store.DisposeAsync();
        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version = 99";
            await command.ExecuteNonQueryAsync();
        }

        var error = await Assert.ThrowsAsync<StoreUnavailableException>(() => SqliteEventStore.OpenAsync(new SqliteStoreOptions { DataDirectory = _directory }));
        Assert.Contains("schema version 99", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RankingsWithoutTheirItemsColumn_StillReplay_FromTheirJsonBody()
    {
        var store = (SqliteEventStore)await OpenAsync();
        await store.AppendRankingsAsync([Ranking("old", T0, items: ["a", "b"])]);
        await using (var connection = new SqliteConnection($"Data Source={store.DatabasePath}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "UPDATE rankings SET items = NULL";
            Assert.Equal(1, await command.ExecuteNonQueryAsync());
        }

        var entries = new List<CountingEntry>();
        await foreach (var entry in store.ReadCountingLogAsync(DateTimeOffset.MinValue))
        {
            entries.Add(entry);
        }

        Assert.Equal([new Impression("a", 1), new Impression("b", 2)], Assert.Single(entries).Impressions!);
    }

    [Fact]
    public async Task ASchema4File_WithTheRowsThatStoppedEveryStart_MigratesAndReadsBackExactly()
    {
        // Golden: written by schema 4 (commit d2bd895) from four requests: a normal ranking with a click, a ranking
        // with every candidate excluded (empty), a recommendation on an empty store (empty) and a candidate id
        // holding the separator U+001F. Schema 4 could not decode the last three, and no start got past them.
        Directory.CreateDirectory(_directory);
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Golden", "schema-v4.db"), Path.Combine(_directory, "lasthope.db"));
        var store = await SqliteEventStore.OpenAsync(new SqliteStoreOptions { DataDirectory = _directory });
        Track(store);
        var counting = new List<CountingEntry>();
        await foreach (var entry in store.ReadCountingLogAsync(DateTimeOffset.MinValue))
        {
            counting.Add(entry);
        }

        Assert.Equal(5, counting.Count);
        Assert.Equal([new Impression("a", 1), new Impression("b", 2)], counting[0].Impressions!);
        Assert.Equal("e1", counting[1].Event!.EventId);
        Assert.Empty(counting[2].Impressions!);
        Assert.Empty(counting[3].Impressions!);
        Assert.Equal([new Impression("a\u001fb", 1)], counting[4].Impressions!);
        Assert.Equal(0, store.Skipped.Count);
        Assert.Equal(["a\u001fb"], (await store.FindRankingAsync("r-sep"))!.Items.Select(i => i.ItemId));
        await using var connection = new SqliteConnection($"Data Source={store.DatabasePath}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version";
        Assert.Equal(SqliteEventStore.SchemaVersion, Convert.ToInt32(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
        command.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'events_by_user'";
        Assert.Equal(0L, await command.ExecuteScalarAsync()); // schema 3 made it, schema 8 drops it
    }

    [Fact]
    public async Task ASchema7File_LosesTheIndexByUser_AndStillReadsAUsersEvents()
    {
        // Schema 7 as it was: the events_by_user index, which made every append dirty a random page (issue 14).
        var store = (SqliteEventStore)await OpenAsync();
        await store.AppendEventsAsync([Event("e1", T0), Event("e2", T0) with { UserId = "u2" }, Event("e3", T0)]);
        var path = store.DatabasePath;
        await store.DisposeAsync();
        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "CREATE INDEX events_by_user ON events(user_id, seq); PRAGMA user_version = 7;";
            await command.ExecuteNonQueryAsync();
        }

        var migrated = await SqliteEventStore.OpenAsync(new SqliteStoreOptions { DataDirectory = _directory });
        Track(migrated);
        Assert.Equal(["e3", "e1"], (await migrated.ReadUserEventsAsync("u1", 5)).Select(e => e.EventId));
        await using var check = new SqliteConnection($"Data Source={path}");
        await check.OpenAsync();
        await using var query = check.CreateCommand();
        query.CommandText = "SELECT (SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'events_by_user'), (SELECT user_version FROM pragma_user_version)";
        await using var reader = await query.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(0, reader.GetInt32(0));
        Assert.Equal(SqliteEventStore.SchemaVersion, reader.GetInt32(1));
    }

    [Fact]
    public async Task ADamagedRow_IsSkippedByEveryRead_CountedOnce_WithItsSequence()
    {
        var store = (SqliteEventStore)await OpenAsync();
        await store.AppendRankingsAsync([Ranking("r1", T0, items: ["a"]), Ranking("r2", T0, items: ["b"]), Ranking("r3", T0, items: ["c"])]);
        await store.AppendEventsAsync([Event("e1", T0), Event("e2", T0)]);
        await using (var connection = new SqliteConnection($"Data Source={store.DatabasePath}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            // A truncated items blob and a body that is not JSON on r2; on e1 a time no DateTimeOffset can hold.
            command.CommandText = "UPDATE rankings SET items = x'0105', body = x'7b' WHERE request_id = 'r2'; UPDATE events SET time_ticks = 9223372036854775807 WHERE event_id = 'e1';";
            await command.ExecuteNonQueryAsync();
        }

        var counting = new List<CountingEntry>();
        await foreach (var entry in store.ReadCountingLogAsync(DateTimeOffset.MinValue))
        {
            counting.Add(entry);
        }

        Assert.Equal(["a", "c", "e2"], counting.Select(c => c.Impressions?[0].ItemId ?? c.Event!.EventId));
        var log = new List<LogEntry>();
        await foreach (var entry in store.ReadLogAsync(DateTimeOffset.MinValue))
        {
            log.Add(entry);
        }

        Assert.Equal(3, log.Count);
        Assert.Null(await store.FindRankingAsync("r2"));
        Assert.Equal(2, store.Skipped.Count);
        Assert.Equal([("ranking", 2L), ("event", 4L)], store.Skipped.Records.Select(r => (r.Kind, r.Sequence)));
        var reopened = (SqliteEventStore)(await ReopenAsync(store))!;
        Track(reopened);
        Assert.Equal(0, reopened.Skipped.Count);
    }

    [Fact]
    public void LoggedFeatureValues_WrittenAsNumbersByEarlierVersions_StillLoad()
    {
        var json = """{"requestId":"r","time":"2026-01-01T00:00:00+00:00","segment":"s","surface":"x","items":[],"features":{"names":["a","b"],"itemIds":["i"],"values":[0.25,"NaN"]}}""";
        var ranking = Lasthope.Core.Serialization.LogJson.Deserialize(System.Text.Encoding.UTF8.GetBytes(json));
        Assert.Equal(0.25, ranking.Features!.Values[0]);
        Assert.True(double.IsNaN(ranking.Features.Values[1]));
        var again = Lasthope.Core.Serialization.LogJson.Deserialize(Lasthope.Core.Serialization.LogJson.Serialize(ranking));
        Assert.Equal(BitConverter.DoubleToInt64Bits(0.25), BitConverter.DoubleToInt64Bits(again.Features!.Values[0]));
        Assert.True(double.IsNaN(again.Features.Values[1]));
    }

    [Fact]
    public async Task Open_OnAnUnwritablePath_IsAStoreUnavailableError()
    {
        var file = Path.GetTempFileName();
        try
        {
            // A regular file where the data directory should be.
            await Assert.ThrowsAsync<StoreUnavailableException>(() => SqliteEventStore.OpenAsync(new SqliteStoreOptions { DataDirectory = file }));
        }
        finally
        {
            File.Delete(file);
        }
    }
}

public sealed class InMemoryEventStoreTests : EventStoreContract
{
    protected override Task<IEventStore> CreateStoreAsync() => Task.FromResult<IEventStore>(new InMemoryEventStore());

    protected override Task<IEventStore?> ReopenAsync(IEventStore store) => Task.FromResult<IEventStore?>(null);
}
