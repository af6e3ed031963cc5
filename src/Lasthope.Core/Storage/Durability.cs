namespace Lasthope.Core.Storage;

/// <summary>How hard a commit waits for the disk before an append is acknowledged (<c>Lasthope:Storage:Durability</c>).</summary>
public enum Durability
{
    /// <summary>
    /// Acknowledged data survives a crash or kill of the process; a power loss may drop the last commits (SQLite: WAL
    /// with synchronous=NORMAL, the commit is in the write-ahead log in the OS page cache).
    /// </summary>
    Process,

    /// <summary>Acknowledged data survives a power loss: every commit is flushed to the disk (SQLite: synchronous=FULL); slower.</summary>
    PowerLoss,
}
