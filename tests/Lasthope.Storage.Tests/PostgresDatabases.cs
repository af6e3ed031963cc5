using Npgsql;

namespace Lasthope.Storage.Tests;

/// <summary>Fresh databases on the test PostgreSQL server (temporary: LASTHOPE_TEST_PG until the harness lands).</summary>
internal static class PostgresDatabases
{
    public static async Task<string> CreateAsync()
    {
        var server = Environment.GetEnvironmentVariable("LASTHOPE_TEST_PG") ?? "Host=127.0.0.1;Port=55432;Username=lasthope;Database=postgres";
        var name = "t" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(server))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(server) { Database = name }.ToString();
    }
}
