using Lasthope.Core.Storage;
using Lasthope.Storage.Postgres;
using Lasthope.Testing;
using Npgsql;

namespace Lasthope.Storage.Tests;

/// <summary>The contract on a real PostgreSQL server that the test starts itself, a fresh database per test.</summary>
public sealed class PostgresEventStoreTests : EventStoreContract
{
    private string? _connectionString;

    protected override async Task<IEventStore> CreateStoreAsync()
    {
        _connectionString ??= await (await PostgresServer.RequireAsync()).CreateDatabaseAsync();
        return PostgresEventStore.Open(new PostgresStoreOptions { ConnectionString = _connectionString });
    }

    protected override async Task<IEventStore?> ReopenAsync(IEventStore store)
    {
        await store.DisposeAsync();
        return PostgresEventStore.Open(new PostgresStoreOptions { ConnectionString = _connectionString! });
    }

    /// <summary>A second server on the same database: its own connection pool, its own appends.</summary>
    protected override Task<IEventStore> OpenSecondWriterAsync(IEventStore store)
        => Task.FromResult<IEventStore>(PostgresEventStore.Open(new PostgresStoreOptions { ConnectionString = _connectionString! }));

    [Fact]
    public async Task Open_RefusesADatabaseFromANewerVersion()
    {
        await OpenAsync();
        await using (var connection = new NpgsqlConnection(_connectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("INSERT INTO lasthope_schema(version) VALUES (99)", connection);
            await command.ExecuteNonQueryAsync();
        }

        var error = Assert.Throws<StoreUnavailableException>(() => PostgresEventStore.Open(new PostgresStoreOptions { ConnectionString = _connectionString! }));
        Assert.Contains("schema version 99", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_WithoutCreate_FindsNoStoreInAnEmptyDatabase_AndCreatesNothing()
    {
        var connectionString = await (await PostgresServer.RequireAsync()).CreateDatabaseAsync();
        Assert.Throws<StoreNotFoundException>(() => PostgresEventStore.Open(new PostgresStoreOptions { ConnectionString = connectionString, CreateIfMissing = false }));
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT to_regclass('events') IS NULL", connection);
        Assert.True((bool)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public void Open_AnUnreachableServer_IsStoreUnavailable_NamingWhere()
    {
        var error = Assert.Throws<StoreUnavailableException>(() => PostgresEventStore.Open(new PostgresStoreOptions { ConnectionString = "Host=127.0.0.1;Port=1;Database=nowhere;Username=x;Timeout=2" }));
        Assert.Contains("127.0.0.1:1/nowhere", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_WithoutAConnectionString_IsABadSetting_NamingIt()
    {
        var error = Assert.Throws<ArgumentException>(() => PostgresEventStore.Open(new PostgresStoreOptions()));
        Assert.Contains("Storage:Postgres:ConnectionString", error.Message, StringComparison.Ordinal);
    }
}
