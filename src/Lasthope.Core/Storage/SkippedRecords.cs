namespace Lasthope.Core.Storage;

/// <summary>A stored record a store found but could not decode.</summary>
/// <param name="Kind">What it was: "ranking" or "event".</param>
/// <param name="Sequence">Its sequence number in the log.</param>
/// <param name="Reason">The decoder's message.</param>
public sealed record SkippedRecord(string Kind, long Sequence, string Reason);

/// <summary>
/// The records a store skipped because they could not be decoded. A record that cannot be decoded never stops a
/// start: every read skips it, and it is counted here (once per record) for logs and /v1/status. Thread-safe; keeps
/// the first <see cref="Kept"/> records whole and counts the rest.
/// </summary>
public sealed class SkippedRecords
{
    /// <summary>Records kept with their sequence and reason; further ones are only counted.</summary>
    public const int Kept = 100;

    private readonly Lock _gate = new();
    private readonly HashSet<(string, long)> _seen = [];
    private readonly List<SkippedRecord> _kept = [];

    /// <summary>Distinct records skipped since the store opened.</summary>
    public long Count { get; private set; }

    /// <summary>Raised once per distinct record, on the reading thread.</summary>
    public event Action<SkippedRecord>? Skipped;

    /// <summary>The first <see cref="Kept"/> skipped records.</summary>
    public IReadOnlyList<SkippedRecord> Records
    {
        get
        {
            lock (_gate)
            {
                return [.. _kept];
            }
        }
    }

    /// <summary>Notes a record that could not be decoded; a record noted before is not counted again.</summary>
    public void Add(string kind, long sequence, Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var record = new SkippedRecord(kind, sequence, error.Message);
        lock (_gate)
        {
            // The set is bounded like the list: past it, a record read twice may be counted twice, which only a
            // store with thousands of broken records would see.
            if (_seen.Count < 100 * Kept && !_seen.Add((kind, sequence)))
            {
                return;
            }

            Count++;
            if (_kept.Count < Kept)
            {
                _kept.Add(record);
            }
        }

        Skipped?.Invoke(record);
    }
}
