using Lasthope.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Lasthope.Storage.Sqlite;

/// <summary>Registers the embedded store as the "sqlite" backend.</summary>
public static class SqliteServiceCollectionExtensions
{
    /// <summary>
    /// Adds the "sqlite" backend, configured from <c>Lasthope:Storage</c> (<c>DataDirectory</c>, <c>Durability</c>).
    /// </summary>
    public static IServiceCollection AddSqliteEventStore(this IServiceCollection services)
    {
        services.AddOptions<SqliteStoreOptions>().BindConfiguration("Lasthope:Storage");
        services.AddSingleton<IEventStoreFactory, SqliteEventStoreFactory>();
        return services;
    }
}

/// <summary>Opens the embedded store under the configured data directory.</summary>
public sealed class SqliteEventStoreFactory(IOptions<SqliteStoreOptions> options) : IEventStoreFactory
{
    public string Backend => "sqlite";

    public IEventStore Open(bool createIfMissing) => SqliteEventStore.Open(new SqliteStoreOptions
    {
        DataDirectory = options.Value.DataDirectory,
        Durability = options.Value.Durability,
        CreateIfMissing = createIfMissing,
    });
}
