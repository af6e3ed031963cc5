using Lasthope.Core.Events;
using Lasthope.Core.Storage;

namespace Lasthope.Server.Tests;

/// <summary>A store whose every operation fails as an unreachable database would (no user has one of these on purpose).</summary>
internal sealed class UnreachableStore : IEventStore, IModelStore
{
    public string Name => "unreachable";

    public SkippedRecords Skipped { get; } = new();

    public Task AppendRankingsAsync(IReadOnlyList<RankingLog> rankings, CancellationToken cancellationToken = default) => throw Down();

    public Task<bool[]> AppendEventsAsync(IReadOnlyList<InteractionEvent> events, CancellationToken cancellationToken = default) => throw Down();

    public Task<long[]> AppendEventsWithSequencesAsync(IReadOnlyList<InteractionEvent> events, CancellationToken cancellationToken = default) => throw Down();

    public Task<RankingLog?> FindRankingAsync(string requestId, CancellationToken cancellationToken = default) => throw Down();

    public Task<string?> FindUserSegmentAsync(string userId, CancellationToken cancellationToken = default) => throw Down();

    public Task<IReadOnlyList<InteractionEvent>> ReadUserEventsAsync(string userId, int limit, CancellationToken cancellationToken = default) => throw Down();

#pragma warning disable CS1998 // an empty log that is read successfully: the store went down after start
    public async IAsyncEnumerable<LogEntry> ReadLogAsync(DateTimeOffset since, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        yield break;
    }
#pragma warning restore CS1998

#pragma warning disable CS1998
    public async IAsyncEnumerable<CountingEntry> ReadCountingLogAsync(DateTimeOffset since, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        yield break;
    }

    public async IAsyncEnumerable<InteractionEvent> ReadEventsAsync(DateTimeOffset since, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        yield break;
    }

    public async IAsyncEnumerable<CountingEntry> ReadCountingLogAfterAsync(long afterSequence, int limit, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        yield break;
    }
#pragma warning restore CS1998

    public Task<StoreCounts> CountAsync(CancellationToken cancellationToken = default) => throw Down();

    public Task<string?> GetSettingAsync(string key, CancellationToken cancellationToken = default) => throw Down();

    public Task SetSettingAsync(string key, string value, CancellationToken cancellationToken = default) => throw Down();

    public Task SaveModelAsync(ModelRecord model, CancellationToken cancellationToken = default) => throw Down();

    public Task<ModelRecord?> FindModelAsync(string version, CancellationToken cancellationToken = default) => throw Down();

    public Task<IReadOnlyList<ModelRecord>> ListModelsAsync(CancellationToken cancellationToken = default) => throw Down();

    public Task SetActiveModelAsync(string surface, string? version, CancellationToken cancellationToken = default) => throw Down();

    /// <summary>Empty: the store answered at start and went down afterwards.</summary>
    public Task<IReadOnlyDictionary<string, string>> GetActiveModelsAsync(CancellationToken cancellationToken = default)
        => Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>());

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static StoreUnavailableException Down() => new("connection refused (simulated)");
}
