using Lasthope.Testing;
using Npgsql;
using StackExchange.Redis;

namespace Lasthope.Storage.Tests;

/// <summary>The real PostgreSQL and Redis servers the store tests run against, started by the tests themselves.</summary>
public sealed class ServerHarnessTests
{
    [Fact]
    public async Task Postgres_AnswersQueries_OnItsOwnThrowawayCluster()
    {
        var server = await PostgresServer.RequireAsync();
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();

        Assert.Equal(1, await ScalarAsync<int>(connection, "SELECT 1"));
        // Our cluster, not a system one: our port, and the settings only a throwaway cluster would have.
        Assert.Equal(server.Port, await ScalarAsync<int>(connection, "SELECT inet_server_port()"));
        Assert.Equal("off", await ScalarAsync<string>(connection, "SHOW fsync"));
        Assert.Equal("200", await ScalarAsync<string>(connection, "SHOW max_connections"));
    }

    [Fact]
    public async Task Postgres_CreateDatabase_GivesTheNamedDatabase()
    {
        var server = await PostgresServer.RequireAsync();

        var connectionString = await server.CreateDatabaseAsync("harness_named");

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        Assert.Equal("harness_named", await ScalarAsync<string>(connection, "SELECT current_database()"));
    }

    [Fact]
    public async Task Postgres_CreateDatabase_GivesDistinctEmptyDatabases()
    {
        var server = await PostgresServer.RequireAsync();

        var first = await server.CreateDatabaseAsync();
        var second = await server.CreateDatabaseAsync();

        await using var firstConnection = new NpgsqlConnection(first);
        await firstConnection.OpenAsync();
        await using var secondConnection = new NpgsqlConnection(second);
        await secondConnection.OpenAsync();
        Assert.NotEqual(
            await ScalarAsync<string>(firstConnection, "SELECT current_database()"),
            await ScalarAsync<string>(secondConnection, "SELECT current_database()"));
        Assert.Equal(0L, await UserTableCountAsync(firstConnection));
        Assert.Equal(0L, await UserTableCountAsync(secondConnection));

        await ExecuteAsync(firstConnection, "CREATE TABLE only_in_first (id int)");

        Assert.Equal(1L, await UserTableCountAsync(firstConnection));
        Assert.Equal(0L, await UserTableCountAsync(secondConnection));
    }

    [Fact]
    public async Task Postgres_StopRefusesConnections_AndStartBringsBackTheSameData()
    {
        await using var server = await PostgresServer.RequireNewAsync();
        var database = await server.CreateDatabaseAsync();
        var unpooled = new NpgsqlConnectionStringBuilder(database) { Pooling = false, Timeout = 5 }.ConnectionString;
        await using (var connection = new NpgsqlConnection(unpooled))
        {
            await connection.OpenAsync();
            await ExecuteAsync(connection, "CREATE TABLE kept (id int); INSERT INTO kept VALUES (42)");
        }

        await server.StopAsync();

        await using (var refused = new NpgsqlConnection(unpooled))
        {
            await Assert.ThrowsAnyAsync<NpgsqlException>(() => refused.OpenAsync());
        }

        var port = server.Port;
        await server.StartAsync();

        Assert.Equal(port, server.Port);
        await using (var connection = new NpgsqlConnection(unpooled))
        {
            await connection.OpenAsync();
            Assert.Equal(42, await ScalarAsync<int>(connection, "SELECT id FROM kept"));
        }
    }

    [Fact]
    public async Task Redis_AnswersPing_AndStoresValues()
    {
        var server = await RedisServer.RequireAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString);
        var database = redis.GetDatabase();

        await database.PingAsync();
        Assert.True(await database.StringSetAsync("harness:greeting", "hello"));
        Assert.Equal("hello", (string?)await database.StringGetAsync("harness:greeting"));
    }

    [Fact]
    public async Task Redis_StopRefusesConnections_AndStartComesBackEmptyOnTheSamePort()
    {
        await using var server = await RedisServer.RequireNewAsync();
        var options = ConfigurationOptions.Parse(server.ConnectionString);
        options.AbortOnConnectFail = true;
        options.ConnectTimeout = 2000;
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(options))
        {
            Assert.True(await redis.GetDatabase().StringSetAsync("harness:lost", "v"));
        }

        await server.StopAsync();

        await Assert.ThrowsAsync<RedisConnectionException>(() => ConnectionMultiplexer.ConnectAsync(options));

        await server.StartAsync();

        await using (var redis = await ConnectionMultiplexer.ConnectAsync(options))
        {
            // Nothing is persisted, so the restarted server holds nothing of the old one.
            Assert.False(await redis.GetDatabase().KeyExistsAsync("harness:lost"));
            Assert.True(await redis.GetDatabase().StringSetAsync("harness:back", "v"));
        }
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> UserTableCountAsync(NpgsqlConnection connection) =>
        await ScalarAsync<long>(connection, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'");
}
