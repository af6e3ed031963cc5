namespace Lasthope.Core.Storage;

/// <summary>
/// Named snapshots of in-memory state (the counters), so that a restart reads the newest snapshot and the log after
/// it instead of the whole log. A snapshot is only ever a shortcut: the log stays the source of truth.
/// </summary>
public interface ISnapshotStore
{
    /// <summary>Saves <paramref name="content"/> under <paramref name="name"/>, replacing the previous one, durably.</summary>
    Task SaveSnapshotAsync(string name, byte[] content, CancellationToken cancellationToken = default);

    /// <summary>The snapshot saved under <paramref name="name"/>, or null.</summary>
    Task<byte[]?> LoadSnapshotAsync(string name, CancellationToken cancellationToken = default);
}
