namespace Lasthope.Storage.Postgres;

/// <summary>Configuration of the PostgreSQL store (section <c>Lasthope:Storage:Postgres</c>).</summary>
public sealed class PostgresStoreOptions
{
    /// <summary>An Npgsql connection string, for example <c>Host=db;Database=lasthope;Username=lasthope;Password=...</c>.</summary>
    public string ConnectionString { get; init; } = "";

    /// <summary>
    /// Create the schema when the database has none (a server). False for tools that only read: a database without
    /// Lasthope's schema is then a <see cref="Core.Storage.StoreNotFoundException"/>, and nothing is created.
    /// </summary>
    public bool CreateIfMissing { get; init; } = true;
}
