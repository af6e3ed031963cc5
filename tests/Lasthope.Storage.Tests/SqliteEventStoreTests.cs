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
    public async Task RankingsWrittenBeforeSchema4_StillReplay_FromTheirJsonBody()
    {
        var store = (SqliteEventStore)await OpenAsync();
        await store.AppendRankingsAsync([Ranking("old", T0, items: ["a", "b"])]);
        await using (var connection = new SqliteConnection($"Data Source={store.DatabasePath}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "UPDATE rankings SET served = NULL";
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
