using Lasthope.Core.Events;

namespace Lasthope.Core.Storage;

/// <summary>
/// The durable log of served rankings (impressions) and interaction events. The embedded SQLite store is the default;
/// every implementation passes the same contract suite (tests/Lasthope.Storage.Tests).
/// </summary>
/// <remarks>
/// Durability: when an append's task completes, the data survives a crash of the process. Entries carry one global
/// sequence in append order, which <see cref="ReadLogAsync"/> preserves, so a replay rebuilds exactly the state the
/// appends built. Failures surface as <see cref="StoreUnavailableException"/>. Every string is stored so that it reads
/// back exactly (empty lists and any Unicode), whatever the API validated.
/// </remarks>
public interface IEventStore : IAsyncDisposable
{
    /// <summary>A short name for logs and metrics (sqlite, redis, postgres, memory).</summary>
    string Name { get; }

    /// <summary>Appends served rankings. A request id seen before is ignored (the first ranking wins).</summary>
    Task AppendRankingsAsync(IReadOnlyList<RankingLog> rankings, CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends interaction events atomically. Returns, per event, true when it was new and false when its event id
    /// was seen before (a duplicate, which must count once).
    /// </summary>
    Task<bool[]> AppendEventsAsync(IReadOnlyList<InteractionEvent> events, CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends like <see cref="AppendEventsAsync"/> and returns, per event, its sequence number in the log, or 0 for a
    /// duplicate: what lets a server count its own events exactly once beside those it follows from the log.
    /// </summary>
    Task<long[]> AppendEventsWithSequencesAsync(IReadOnlyList<InteractionEvent> events, CancellationToken cancellationToken = default);

    /// <summary>The ranking logged under <paramref name="requestId"/>, or null.</summary>
    Task<RankingLog?> FindRankingAsync(string requestId, CancellationToken cancellationToken = default);

    /// <summary>The most recent segment recorded for a user (from the rankings served to them), or null.</summary>
    Task<string?> FindUserSegmentAsync(string userId, CancellationToken cancellationToken = default);

    /// <summary>The latest interaction events of a user, newest first, at most <paramref name="limit"/>.</summary>
    /// <remarks>
    /// For tools (the CLI's fold-in), not the request path: a store need keep no index by user, since one made every
    /// append dirty a random page (the embedded store scans its log newest first). The server reads a user's events
    /// from memory (<c>UserHistory</c>).
    /// </remarks>
    Task<IReadOnlyList<InteractionEvent>> ReadUserEventsAsync(string userId, int limit, CancellationToken cancellationToken = default);

    /// <summary>Rankings and events whose event time is at or after <paramref name="since"/>, in append order.</summary>
    IAsyncEnumerable<LogEntry> ReadLogAsync(DateTimeOffset since, CancellationToken cancellationToken = default);

    /// <summary>
    /// What the counters need of the log, in append order: for each ranking its time, segment, user and served items
    /// with positions, and each event whole. Cheaper than <see cref="ReadLogAsync"/>: no ranking is decoded in full.
    /// </summary>
    IAsyncEnumerable<CountingEntry> ReadCountingLogAsync(DateTimeOffset since, CancellationToken cancellationToken = default);

    /// <summary>
    /// At most <paramref name="limit"/> entries with a sequence number above <paramref name="afterSequence"/>, in
    /// sequence order, whatever their event time: how a server follows what other servers append. Every store keeps
    /// the log visible as a prefix: once an entry is returned, no entry with a lower sequence number can appear later,
    /// so a reader that remembers the last sequence it read misses nothing and reads nothing twice.
    /// </summary>
    IAsyncEnumerable<CountingEntry> ReadCountingLogAfterAsync(long afterSequence, int limit, CancellationToken cancellationToken = default);

    /// <summary>Interaction events (no rankings) whose event time is at or after <paramref name="since"/>, in append order.</summary>
    IAsyncEnumerable<InteractionEvent> ReadEventsAsync(DateTimeOffset since, CancellationToken cancellationToken = default);

    /// <summary>Totals, for status output and tests.</summary>
    Task<StoreCounts> CountAsync(CancellationToken cancellationToken = default);

    /// <summary>A persisted setting (for example the position-bias curve), or null.</summary>
    Task<string?> GetSettingAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Persists a setting, replacing any previous value.</summary>
    Task SetSettingAsync(string key, string value, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records found but not decodable since the store opened. Every read skips such a record (a lookup finds
    /// nothing, a replay goes on without it) and notes it here: one damaged row never stops a start.
    /// </summary>
    SkippedRecords Skipped { get; }
}

/// <summary>One entry of the log: exactly one of <see cref="Ranking"/> and <see cref="Event"/> is set.</summary>
public readonly record struct LogEntry(long Sequence, RankingLog? Ranking, InteractionEvent? Event);

/// <summary>An impression of an item at a 1-based position.</summary>
public readonly record struct Impression(string ItemId, int Position);

/// <summary>
/// A log entry as the counters see it: a ranking's impressions (<see cref="Impressions"/> set) or an event
/// (<see cref="Event"/> set). A ranking's <see cref="RequestId"/> and <see cref="Surface"/> are set by the reads that
/// follow the log (<see cref="IEventStore.ReadCountingLogAfterAsync"/>), which attribute clicks to it.
/// </summary>
public readonly record struct CountingEntry(long Sequence, DateTimeOffset Time, string Segment, string? UserId, Impression[]? Impressions, InteractionEvent? Event, string? RequestId = null, string? Surface = null)
{
    public static CountingEntry Of(LogEntry entry) => entry.Ranking is { } r
        ? new CountingEntry(entry.Sequence, r.Time, r.Segment, r.UserId, [.. r.Items.Select(i => new Impression(i.ItemId, i.Position))], null, r.RequestId, r.Surface)
        : new CountingEntry(entry.Sequence, entry.Event!.Time, entry.Event.Segment, entry.Event.UserId, null, entry.Event);
}

/// <summary>What a store holds.</summary>
/// <param name="Rankings">Logged rankings (requests served or imported).</param>
/// <param name="Impressions">Served items over all rankings.</param>
/// <param name="Events">Distinct interaction events.</param>
/// <param name="Users">Distinct users with a known segment.</param>
public readonly record struct StoreCounts(long Rankings, long Impressions, long Events, long Users);

/// <summary>A tool asked for an existing store and there is none where it looked; nothing was created.</summary>
public sealed class StoreNotFoundException : Exception
{
    public StoreNotFoundException()
    {
    }

    public StoreNotFoundException(string message)
        : base(message)
    {
    }

    public StoreNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The store could not be reached or could not complete the operation. Nothing was acknowledged.</summary>
public sealed class StoreUnavailableException : Exception
{
    public StoreUnavailableException()
    {
    }

    public StoreUnavailableException(string message)
        : base(message)
    {
    }

    public StoreUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
