namespace Lasthope.Storage.Sqlite;

/// <summary>How hard a commit waits for the disk.</summary>
public enum SqliteDurability
{
    /// <summary>
    /// WAL with synchronous=NORMAL: a committed transaction is in the write-ahead log in the OS page cache when the
    /// append returns, so it survives a crash or kill of the process; a power loss may drop the last commits.
    /// </summary>
    Process,

    /// <summary>WAL with synchronous=FULL: every commit is fsynced; survives power loss; slower.</summary>
    PowerLoss,
}

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

    public SqliteDurability Durability { get; init; } = SqliteDurability.Process;

    /// <summary>The database file.</summary>
    public string DatabasePath => Path.Combine(DataDirectory, "lasthope.db");
}
