using System.Runtime.CompilerServices;
using Lasthope.Core.Events;

namespace Lasthope.Core.Storage;

/// <summary>
/// A store that lives in process memory and forgets everything when the process ends. For tests, benchmarks and
/// throwaway runs; it passes the same contract suite as the durable stores, except durability.
/// </summary>
public sealed class InMemoryEventStore : IEventStore, IModelStore, IItemStore, ISnapshotStore
{
    private readonly Lock _gate = new();
    private readonly List<LogEntry> _log = [];
    private readonly Dictionary<string, RankingLog> _rankings = new(StringComparer.Ordinal);
    private readonly HashSet<string> _eventIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _users = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _settings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ModelRecord> _models = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _active = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Items.ItemAttributes> _items = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _snapshots = new(StringComparer.Ordinal);
    private long _impressions;

    public string Name => "memory";

    /// <summary>Always empty: records held in memory are never encoded.</summary>
    public SkippedRecords Skipped { get; } = new();

    public Task AppendRankingsAsync(IReadOnlyList<RankingLog> rankings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rankings);
        lock (_gate)
        {
            foreach (var ranking in rankings)
            {
                if (_rankings.TryAdd(ranking.RequestId, ranking))
                {
                    _log.Add(new LogEntry(_log.Count + 1, ranking, null));
                    _impressions += ranking.Items.Count;
                    if (ranking.UserId is { } user && ranking.Segment != Segments.SegmentScheme.Unknown)
                    {
                        _users[user] = ranking.Segment;
                    }
                }
            }
        }

        return Task.CompletedTask;
    }

    public async Task<bool[]> AppendEventsAsync(IReadOnlyList<InteractionEvent> events, CancellationToken cancellationToken = default)
        => [.. (await AppendEventsWithSequencesAsync(events, cancellationToken)).Select(sequence => sequence > 0)];

    public Task<long[]> AppendEventsWithSequencesAsync(IReadOnlyList<InteractionEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        var sequences = new long[events.Count];
        lock (_gate)
        {
            for (var i = 0; i < events.Count; i++)
            {
                if (_eventIds.Add(events[i].EventId))
                {
                    sequences[i] = _log.Count + 1;
                    _log.Add(new LogEntry(sequences[i], null, events[i]));
                }
            }
        }

        return Task.FromResult(sequences);
    }

    public Task<RankingLog?> FindRankingAsync(string requestId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_rankings.GetValueOrDefault(requestId));
        }
    }

    public Task<string?> FindUserSegmentAsync(string userId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_users.GetValueOrDefault(userId));
        }
    }

    public Task<IReadOnlyList<InteractionEvent>> ReadUserEventsAsync(string userId, int limit, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<InteractionEvent>>(
                [.. _log.Where(e => e.Event?.UserId == userId).Reverse().Take(limit).Select(e => e.Event!)]);
        }
    }

    public async IAsyncEnumerable<LogEntry> ReadLogAsync(DateTimeOffset since, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        LogEntry[] snapshot;
        lock (_gate)
        {
            snapshot = [.. _log];
        }

        foreach (var entry in snapshot)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var time = entry.Ranking?.Time ?? entry.Event!.Time;
            if (time >= since)
            {
                yield return entry;
            }
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    public async IAsyncEnumerable<CountingEntry> ReadCountingLogAsync(DateTimeOffset since, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var entry in ReadLogAsync(since, cancellationToken))
        {
            yield return CountingEntry.Of(entry);
        }
    }

    public async IAsyncEnumerable<CountingEntry> ReadCountingLogAfterAsync(long afterSequence, int limit, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        LogEntry[] page;
        lock (_gate)
        {
            // Sequence n is at index n - 1: the list is the log.
            var from = (int)Math.Clamp(afterSequence, 0, _log.Count);
            page = [.. _log.Skip(from).Take(Math.Max(0, limit))];
        }

        foreach (var entry in page)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return CountingEntry.Of(entry);
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    public async IAsyncEnumerable<InteractionEvent> ReadEventsAsync(DateTimeOffset since, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var entry in ReadLogAsync(since, cancellationToken))
        {
            if (entry.Event is { } e)
            {
                yield return e;
            }
        }
    }

    public Task<StoreCounts> CountAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(new StoreCounts(_rankings.Count, _impressions, _eventIds.Count, _users.Count));
        }
    }

    public Task<string?> GetSettingAsync(string key, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_settings.GetValueOrDefault(key));
        }
    }

    public Task SetSettingAsync(string key, string value, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _settings[key] = value;
        }

        return Task.CompletedTask;
    }

    public Task SaveModelAsync(ModelRecord model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        lock (_gate)
        {
            if (!_models.TryAdd(model.Version, model))
            {
                throw new InvalidOperationException($"Model version '{model.Version}' exists already.");
            }
        }

        return Task.CompletedTask;
    }

    public Task<ModelRecord?> FindModelAsync(string version, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_models.GetValueOrDefault(version));
        }
    }

    public Task<IReadOnlyList<ModelRecord>> ListModelsAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<ModelRecord>>([.. _models.Values.OrderByDescending(m => m.RegisteredAt).Select(m => m with { Content = [] })]);
        }
    }

    public Task SetActiveModelAsync(string surface, string? version, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (version is null)
            {
                _active.Remove(surface);
            }
            else
            {
                _active[surface] = version;
            }
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyDictionary<string, string>> GetActiveModelsAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>(_active, StringComparer.Ordinal));
        }
    }

    public Task SaveSnapshotAsync(string name, byte[] content, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _snapshots[name] = [.. content];
        }

        return Task.CompletedTask;
    }

    public Task<byte[]?> LoadSnapshotAsync(string name, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_snapshots.GetValueOrDefault(name));
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public Task UpsertItemsAsync(IReadOnlyList<Items.ItemAttributes> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        lock (_gate)
        {
            foreach (var item in items)
            {
                _items[item.ItemId] = item;
            }
        }

        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<Items.ItemAttributes> ReadItemsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Items.ItemAttributes[] items;
        lock (_gate)
        {
            items = [.. _items.Values];
        }

        foreach (var item in items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return item;
        }

        await Task.CompletedTask;
    }
}
