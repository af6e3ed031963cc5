using Lasthope.Core.Storage;
using Lasthope.Server.Configuration;
using Lasthope.Server.Hosting;
using Lasthope.Server.Redis;
using Lasthope.Storage.Postgres;
using Lasthope.Storage.Sqlite;

namespace Lasthope.Cli;

/// <summary>The stores this executable offers, for the server it hosts and for the tools that open a data directory themselves.</summary>
internal static class CliStores
{
    /// <summary>
    /// Registers every store backend of this build with a server (the embedded SQLite store and PostgreSQL) and Redis
    /// as the replicas' shared state (used only when <c>Lasthope:Redis:Configuration</c> is set).
    /// </summary>
    public static void Register(Microsoft.Extensions.DependencyInjection.IServiceCollection services) => services.AddSqliteEventStore().AddPostgresEventStore().AddRedisSharedState();

    /// <summary>
    /// Opens the configured store for a tool. It must exist unless <paramref name="createIfMissing"/> (import): a tool
    /// that reads a data directory creates nothing (<see cref="StoreNotFoundException"/>, exit code 3).
    /// </summary>
    public static Task<IEventStore> OpenAsync(LasthopeOptions options, CancellationToken cancellationToken = default)
        => OpenAsync(options, createIfMissing: false, cancellationToken);

    public static Task<IEventStore> OpenAsync(LasthopeOptions options, bool createIfMissing, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        cancellationToken.ThrowIfCancellationRequested();
        IEventStoreFactory[] factories =
        [
            new InMemoryEventStoreFactory(),
            new SqliteEventStoreFactory(Microsoft.Extensions.Options.Options.Create(new SqliteStoreOptions { DataDirectory = options.Storage.DataDirectory, Durability = options.Storage.Durability })),
            new PostgresEventStoreFactory(Microsoft.Extensions.Options.Options.Create(new PostgresStoreOptions { ConnectionString = options.Storage.Postgres.ConnectionString })),
        ];
        return Task.FromResult(StoreSelection.Open(factories, options.Storage.Backend, createIfMissing));
    }
}
