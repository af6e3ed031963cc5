using System.ComponentModel.DataAnnotations;
using Lasthope.Core.Events;
using Lasthope.Core.Segments;
using Lasthope.Core.Storage;
using Lasthope.Counters;
using Microsoft.Extensions.Options;

namespace Lasthope.Server.Configuration;

/// <summary>
/// All of Lasthope's configuration, bound from the <c>Lasthope</c> section (appsettings.json, environment variables
/// such as <c>Lasthope__Counters__PriorStrength=100</c>, or <c>--config FILE</c>). Validated at start: a bad value
/// stops the server with a message naming the setting.
/// </summary>
public sealed class LasthopeOptions
{
    public const string Section = "Lasthope";

    [ValidateObjectMembers]
    public StorageOptions Storage { get; init; } = new();

    [ValidateObjectMembers]
    public CounterOptions Counters { get; init; } = new();

    [ValidateObjectMembers]
    public HeuristicOptions Heuristic { get; init; } = new();

    [ValidateObjectMembers]
    public SegmentOptions Segments { get; init; } = new();

    [ValidateObjectMembers]
    public EventTypeOptions Events { get; init; } = new();

    [ValidateObjectMembers]
    public RankingOptions Ranking { get; init; } = new();

    [ValidateObjectMembers]
    public ServingOptions Serving { get; init; } = new();

    [ValidateObjectMembers]
    public RecommendOptions Recommend { get; init; } = new();

    [ValidateObjectMembers]
    public SecurityOptions Security { get; init; } = new();

    [ValidateObjectMembers]
    public LimitsOptions Limits { get; init; } = new();

    [ValidateObjectMembers]
    public TelemetryOptions Telemetry { get; init; } = new();

    [ValidateObjectMembers]
    public RetrainingOptions Retraining { get; init; } = new();

    [ValidateObjectMembers]
    public StateOptions State { get; init; } = new();
}

/// <summary>
/// How the in-memory counters keep up with the log (section <c>Lasthope:State</c>): every server follows what all
/// servers on the store append, and snapshots its counters so that a restart reads only the log after the snapshot.
/// </summary>
public sealed class StateOptions : IValidatableObject
{
    /// <summary>Milliseconds between reads of the log's new entries. Default 100 (other servers' clicks count within about that).</summary>
    public int FollowIntervalMs { get; init; } = 100;

    /// <summary>Seconds between counter snapshots (and one at shutdown); 0 turns snapshots off. Default 300.</summary>
    public int SnapshotIntervalSeconds { get; init; } = 300;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (FollowIntervalMs is < 5 or > 60_000)
        {
            yield return new ValidationResult("State:FollowIntervalMs must be in [5, 60000].", [nameof(FollowIntervalMs)]);
        }

        if (SnapshotIntervalSeconds is < 0 or > 604_800 || SnapshotIntervalSeconds is > 0 and < 5)
        {
            yield return new ValidationResult("State:SnapshotIntervalSeconds must be 0 (off) or in [5, 604800].", [nameof(SnapshotIntervalSeconds)]);
        }
    }
}

/// <summary>
/// The server's retraining schedule (section <c>Lasthope:Retraining</c>), off by default: every
/// <see cref="EveryHours"/>, for each of <see cref="Surfaces"/>, what <c>lasthope retrain</c> does (train a candidate
/// from the log, compare it off-policy with the active model, activate it only when the interval of the difference
/// lies above 0), with the model swapped in live. Training runs in the serving process, on <see cref="Threads"/>
/// threads at a time, one surface at a time.
/// </summary>
public sealed class RetrainingOptions : IValidatableObject
{
    /// <summary>Hours between retrainings, at least 1/60 (a minute); 0 (the default) turns the schedule off.</summary>
    public double EveryHours { get; init; }

    /// <summary>The surfaces retrained; each must be a configured surface or "default".</summary>
    public IList<string> Surfaces { get; init; } = [];

    /// <summary>Days of log each candidate trains on. Default 30.</summary>
    public double Days { get; init; } = 30;

    /// <summary>The latest share of queries held out: the window on which candidate and active model are compared. Default 0.2.</summary>
    public double ValidFraction { get; init; } = 0.2;

    /// <summary>Trees of each candidate. Default 100.</summary>
    public int Trees { get; init; } = 100;

    /// <summary>Leaves per tree. Default 15 (a small model: the explored traffic is a fraction of all).</summary>
    public int Leaves { get; init; } = 15;

    /// <summary>Minimum rows a leaf. Default 100.</summary>
    public int MinDataInLeaf { get; init; } = 100;

    /// <summary>LightGBM's training threads, taken from serving. Default 1.</summary>
    public int Threads { get; init; } = 1;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!(EveryHours == 0 || (EveryHours >= 1.0 / 60 && EveryHours <= 24 * 365)))
        {
            yield return new ValidationResult("Retraining:EveryHours must be 0 (off) or in [1/60, 8760].", [nameof(EveryHours)]);
        }

        if (EveryHours > 0 && Surfaces.Count == 0)
        {
            yield return new ValidationResult("Retraining:Surfaces must name at least one surface when Retraining:EveryHours is set.", [nameof(Surfaces)]);
        }

        if (!(ValidFraction > 0 && ValidFraction < 1))
        {
            yield return new ValidationResult("Retraining:ValidFraction must be in (0, 1).", [nameof(ValidFraction)]);
        }

        if (!(Days > 0 && Days <= 3650) || Trees is < 1 or > 10_000 || Leaves is < 2 or > 1_024 || MinDataInLeaf < 1 || Threads < 1)
        {
            yield return new ValidationResult("Retraining: Days in (0, 3650], Trees in [1, 10000], Leaves in [2, 1024], MinDataInLeaf >= 1, Threads >= 1.", [nameof(Days)]);
        }
    }
}

/// <summary>Where traces and metrics go besides /metrics (section <c>Lasthope:Telemetry</c>).</summary>
public sealed class TelemetryOptions : IValidatableObject
{
    /// <summary>
    /// An OTLP collector (for example http://127.0.0.1:4317) to which the server exports its traces (a span per request
    /// and per stage, the served path as attributes) and its metrics. Default none: no spans are recorded at all.
    /// </summary>
    public string? OtlpEndpoint { get; init; }

    /// <summary>The service name the exported telemetry carries. Default lasthope.</summary>
    public string ServiceName { get; init; } = "lasthope";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (OtlpEndpoint is not null && (!Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            yield return new ValidationResult("Telemetry:OtlpEndpoint must be an absolute http(s) URL.", [nameof(OtlpEndpoint)]);
        }

        if (!ConfiguredName.IsValid(ServiceName))
        {
            yield return new ValidationResult("Telemetry:ServiceName must be a plain name.", [nameof(ServiceName)]);
        }
    }
}

/// <summary>Where events and rankings are kept (section <c>Lasthope:Storage</c>).</summary>
public sealed class StorageOptions : IValidatableObject
{
    /// <summary>
    /// The backend: "sqlite" (embedded, the default) or "memory" (nothing survives the process), or another that a
    /// store registered. Each backend reads its own settings from this section.
    /// </summary>
    public string Backend { get; init; } = "sqlite";

    /// <summary>Data directory of the embedded store. Default ./data.</summary>
    public string DataDirectory { get; init; } = "data";

    /// <summary>Process (default: acknowledged data survives a crash of the process) or PowerLoss (and a power loss).</summary>
    public Durability Durability { get; init; } = Durability.Process;

    /// <summary>
    /// The "postgres" backend's connection string, as the tools read it to open the store themselves (the server's
    /// backend binds the same key, <c>Storage:Postgres:ConnectionString</c>).
    /// </summary>
    public PostgresConnection Postgres { get; init; } = new();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!ConfiguredName.IsValid(Backend))
        {
            yield return new ValidationResult($"Storage:Backend '{Backend}' is not a backend name.", [nameof(Backend)]);
            yield break;
        }

        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            yield return new ValidationResult("Storage:DataDirectory must not be empty.", [nameof(DataDirectory)]);
            yield break;
        }
    }
}

/// <summary>Where the "postgres" backend's database is (section <c>Lasthope:Storage:Postgres</c>).</summary>
public sealed class PostgresConnection
{
    /// <summary>An Npgsql connection string; required when <c>Storage:Backend</c> is postgres.</summary>
    public string ConnectionString { get; init; } = "";
}

/// <summary>Limits and defaults of the ranking API (section <c>Lasthope:Ranking</c>).</summary>
public sealed class RankingOptions : IValidatableObject
{
    /// <summary>Items returned (and logged as impressions) when a request gives no count. Default 10.</summary>
    public int DefaultCount { get; init; } = 10;

    /// <summary>Most items a request may ask for (count), each of which is logged and counted as an impression. Default 1,000.</summary>
    public int MaxCount { get; init; } = 1_000;

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

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (DefaultCount < 1)
        {
            yield return new ValidationResult("Ranking:DefaultCount must be at least 1.", [nameof(DefaultCount)]);
            yield break;
        }

        if (MaxCandidates < 1)
        {
            yield return new ValidationResult("Ranking:MaxCandidates must be at least 1.", [nameof(MaxCandidates)]);
            yield break;
        }

        if (MaxCount < DefaultCount)
        {
            yield return new ValidationResult("Ranking:MaxCount must be at least Ranking:DefaultCount.", [nameof(MaxCount)]);
        }

        if (MaxBodyBytes < 1024)
        {
            yield return new ValidationResult("Ranking:MaxBodyBytes must be at least 1024.", [nameof(MaxBodyBytes)]);
            yield break;
        }

        if (RecentRankings < 0 || ImpressionLogCapacity < 1 || MaxEventsPerBatch < 1)
        {
            yield return new ValidationResult("Ranking:RecentRankings, ImpressionLogCapacity and MaxEventsPerBatch must be positive.", [nameof(RecentRankings)]);
            yield break;
        }
    }
}

/// <summary>
/// The validation of every setting, generated at compile time from the options' attributes and their
/// <see cref="IValidatableObject"/> rules, section by section ([ValidateObjectMembers]).
/// </summary>
[OptionsValidator]
public sealed partial class LasthopeOptionsValidator : IValidateOptions<LasthopeOptions>;
