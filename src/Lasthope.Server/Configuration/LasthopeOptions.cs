using Lasthope.Core.Events;
using Lasthope.Core.Segments;
using Lasthope.Counters;
using Lasthope.Server.Cascade;
using Lasthope.Storage.Sqlite;

namespace Lasthope.Server.Configuration;

/// <summary>
/// All of Lasthope's configuration, bound from the <c>Lasthope</c> section (appsettings.json, environment variables
/// such as <c>Lasthope__Counters__PriorStrength=100</c>, or <c>--config FILE</c>). Validated at start: a bad value
/// stops the server with a message naming the setting.
/// </summary>
public sealed class LasthopeOptions
{
    public const string Section = "Lasthope";

    public StorageOptions Storage { get; init; } = new();

    public CounterOptions Counters { get; init; } = new();

    public HeuristicOptions Heuristic { get; init; } = new();

    public SegmentOptions Segments { get; init; } = new();

    public EventTypeOptions Events { get; init; } = new();

    public RankingOptions Ranking { get; init; } = new();

    public ServingOptions Serving { get; init; } = new();

    public RecommendOptions Recommend { get; init; } = new();

    public SecurityOptions Security { get; init; } = new();

    public LimitsOptions Limits { get; init; } = new();

    public void Validate()
    {
        Storage.Validate();
        Counters.Validate();
        Heuristic.Validate();
        Segments.Validate();
        Events.Validate();
        Ranking.Validate();
        Serving.Validate();
        Recommend.Validate();
        Security.Validate();
        Limits.Validate();
        if (!ConfiguredName.IsValid(Recommend.DefaultSurface))
        {
            throw new ArgumentException("Recommend:DefaultSurface must be a surface name: 1 to 64 letters, digits, '_', '.', ':' or '-'.", nameof(Recommend));
        }

        _ = new ExperimentAssigner(Serving.Experiments); // one experiment per surface
    }
}

/// <summary>Where events and rankings are kept (section <c>Lasthope:Storage</c>).</summary>
public sealed class StorageOptions
{
    /// <summary>"sqlite" (embedded, the default) or "memory" (nothing survives the process).</summary>
    public string Backend { get; init; } = "sqlite";

    /// <summary>Data directory of the embedded store. Default ./data.</summary>
    public string DataDirectory { get; init; } = "data";

    /// <summary>Process (default: survives a crash of the process) or PowerLoss (fsync every commit).</summary>
    public SqliteDurability Durability { get; init; } = SqliteDurability.Process;

    public void Validate()
    {
        if (Backend is not ("sqlite" or "memory"))
        {
            throw new ArgumentException($"Storage:Backend '{Backend}' is not supported; use sqlite or memory.", nameof(Backend));
        }

        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            throw new ArgumentException("Storage:DataDirectory must not be empty.", nameof(DataDirectory));
        }
    }
}

/// <summary>Limits and defaults of the ranking API (section <c>Lasthope:Ranking</c>).</summary>
public sealed class RankingOptions
{
    /// <summary>Items returned (and logged as impressions) when a request gives no count. Default 10.</summary>
    public int DefaultCount { get; init; } = 10;

    /// <summary>Most candidates a request may carry. Default 10,000.</summary>
    public int MaxCandidates { get; init; } = 10_000;

    /// <summary>Largest request body in bytes. Default 8 MiB.</summary>
    public long MaxBodyBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>Rankings remembered in memory (compactly, about 150 bytes each) for click attribution before falling back to the store. Default 200,000.</summary>
    public int RecentRankings { get; init; } = 200_000;

    /// <summary>Rankings that may wait for the store; beyond this the impression log drops and counts. Default 50,000.</summary>
    public int ImpressionLogCapacity { get; init; } = 50_000;

    /// <summary>Most events in one POST /v1/events. Default 10,000.</summary>
    public int MaxEventsPerBatch { get; init; } = 10_000;

    public void Validate()
    {
        if (DefaultCount < 1)
        {
            throw new ArgumentException("Ranking:DefaultCount must be at least 1.", nameof(DefaultCount));
        }

        if (MaxCandidates < 1)
        {
            throw new ArgumentException("Ranking:MaxCandidates must be at least 1.", nameof(MaxCandidates));
        }

        if (MaxBodyBytes < 1024)
        {
            throw new ArgumentException("Ranking:MaxBodyBytes must be at least 1024.", nameof(MaxBodyBytes));
        }

        if (RecentRankings < 0 || ImpressionLogCapacity < 1 || MaxEventsPerBatch < 1)
        {
            throw new ArgumentException("Ranking:RecentRankings, ImpressionLogCapacity and MaxEventsPerBatch must be positive.", nameof(RecentRankings));
        }
    }
}
