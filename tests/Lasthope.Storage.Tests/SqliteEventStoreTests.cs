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
