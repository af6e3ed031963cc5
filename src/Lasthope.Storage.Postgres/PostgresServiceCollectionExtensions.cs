using Lasthope.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Lasthope.Storage.Postgres;

/// <summary>Registers PostgreSQL as the "postgres" backend.</summary>
public static class PostgresServiceCollectionExtensions
{
    /// <summary>Adds the "postgres" backend, configured from <c>Lasthope:Storage:Postgres</c> (<c>ConnectionString</c>).</summary>
    public static IServiceCollection AddPostgresEventStore(this IServiceCollection services)
    {
        services.AddOptions<PostgresStoreOptions>().BindConfiguration("Lasthope:Storage:Postgres");
        services.AddSingleton<IEventStoreFactory, PostgresEventStoreFactory>();
        return services;
    }
}

/// <summary>Opens the PostgreSQL store of the configured connection string.</summary>
public sealed class PostgresEventStoreFactory(IOptions<PostgresStoreOptions> options) : IEventStoreFactory
{
    public string Backend => "postgres";

    public IEventStore Open(bool createIfMissing) => PostgresEventStore.Open(new PostgresStoreOptions
    {
        ConnectionString = options.Value.ConnectionString,
        CreateIfMissing = createIfMissing,
    });
}
