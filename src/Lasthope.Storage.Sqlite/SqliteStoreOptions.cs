using Lasthope.Core.Storage;

namespace Lasthope.Storage.Sqlite;

/// <summary>Configuration of the embedded store (section <c>Lasthope:Storage</c>).</summary>
public sealed class SqliteStoreOptions
{
    /// <summary>The data directory; the database is <c>lasthope.db</c> inside it.</summary>
    public string DataDirectory { get; init; } = "data";

    /// <summary>
    /// Create the directory and the database when missing (a server, an import). False for tools that only read an
    /// existing store: a missing one is then a <see cref="Core.Storage.StoreNotFoundException"/>, and nothing is created.
    /// </summary>
    public bool CreateIfMissing { get; init; } = true;

    public Durability Durability { get; init; } = Durability.Process;

    /// <summary>The database file.</summary>
    public string DatabasePath => Path.Combine(DataDirectory, "lasthope.db");
}
