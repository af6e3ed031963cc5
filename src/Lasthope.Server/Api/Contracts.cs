using System.Text.Json;
using System.Text.Json.Serialization;
using Lasthope.Core.Serving;

namespace Lasthope.Server.Api;

/// <summary>The user a request is for. The segment is explicit, or derived from age and gender, or remembered.</summary>
public sealed record UserDto
{
    public string? Id { get; init; }

    public int? Age { get; init; }

    public string? Gender { get; init; }

    public string? Segment { get; init; }
}

/// <summary>A candidate: a bare id in JSON (<c>"item-1"</c>) or an object with request-supplied features.</summary>
[JsonConverter(typeof(CandidateDtoConverter))]
public sealed record CandidateDto(string Id, IReadOnlyDictionary<string, double>? Features = null);

/// <summary>POST /v1/rank.</summary>
public sealed record RankRequest
{
    /// <summary>Generated when absent. Clicks name it to attribute themselves to this ranking.</summary>
    public string? RequestId { get; init; }

    /// <summary>Where the list is shown; selects the model and the re-rank depth. Default "default".</summary>
    public string? Surface { get; init; }

    public UserDto? User { get; init; }

    public IReadOnlyList<CandidateDto>? Candidates { get; init; }

    /// <summary>How many items to return (and log as impressions). Default from configuration (10).</summary>
    public int? Count { get; init; }

    /// <summary>Items not to return, for example those already seen.</summary>
    public IReadOnlyList<string>? Exclude { get; init; }

    /// <summary>Per-request re-rank depth K: how many of the heuristic's top candidates the model re-ranks; default per surface.</summary>
    public int? RerankDepth { get; init; }

    /// <summary>Per-request end-to-end budget in milliseconds, counted from the complete request; default per surface, else from configuration.</summary>
    public double? BudgetMs { get; init; }

    /// <summary>
    /// The request's event time, for replaying a log through the API: accepted only by a server started with
    /// --event-clock, whose clock then moves to the latest timestamp served (400 elsewhere); within Events:MaxPastAge
    /// of that clock either way.
    /// </summary>
    public DateTimeOffset? Timestamp { get; init; }
}

/// <summary>One ranked item; <c>propensity</c> is the probability that the serving policy puts it at this rank (1 without exploration).</summary>
public sealed record RankedItemDto(string Id, int Rank, double Score, ItemSource Source, double Propensity)
{
    public static RankedItemDto Of(Core.Events.ServedItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        return new(item.ItemId, item.Position, item.Score, item.Source, item.Propensity);
    }
}

/// <summary>The experiment arm of a request.</summary>
public sealed record ExperimentDto(string Id, string Arm);

/// <summary>The response of POST /v1/rank: the list and the served-path contract.</summary>
public sealed record RankResponse
{
    public required string RequestId { get; init; }

    public required ServedBy ServedBy { get; init; }

    public FallbackReason? FallbackReason { get; init; }

    public string? ModelVersion { get; init; }

    public required string HeuristicVersion { get; init; }

    public int RerankDepth { get; init; }

    public double BudgetMs { get; init; }

    public ExperimentDto? Experiment { get; init; }

    /// <summary>Whether the exploration policy shuffled the top of this list (the items' propensities say how).</summary>
    public bool Explored { get; init; }

    /// <summary>The segment the ranking was computed for.</summary>
    public required string Segment { get; init; }

    public required IReadOnlyList<RankedItemDto> Items { get; init; }

    /// <summary>Milliseconds per stage, plus "total".</summary>
    public required IReadOnlyDictionary<string, double> Timings { get; init; }

    /// <summary>Conditions met on the way: unknown_user, empty_counters, unknown_items, store_unavailable, ...</summary>
    public required IReadOnlyList<string> Notes { get; init; }

    /// <summary>Candidates that had no data at all and were scored from the prior.</summary>
    public int UnknownItems { get; init; }

    /// <summary>The response for a served ranking.</summary>
    public static RankResponse Of(Ranking.RankResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var r = result.Ranking;
        return new RankResponse
        {
            RequestId = r.RequestId,
            ServedBy = r.ServedBy,
            FallbackReason = r.FallbackReason,
            ModelVersion = r.ModelVersion,
            HeuristicVersion = r.HeuristicVersion,
            RerankDepth = r.RerankDepth,
            BudgetMs = r.BudgetMs,
            Experiment = r.Experiment is { } e ? new ExperimentDto(e.ExperimentId, e.Arm) : null,
            Explored = r.Explored,
            Segment = r.Segment,
            Items = [.. r.Items.Select(RankedItemDto.Of)],
            Timings = r.TimingsMs ?? new Dictionary<string, double>(),
            Notes = r.Notes ?? [],
            UnknownItems = result.UnknownItems,
        };
    }
}

/// <summary>One interaction event in POST /v1/events.</summary>
public sealed record EventDto
{
    public string? EventId { get; init; }

    /// <summary>Default "click". Other types and their weights are configured.</summary>
    public string? Type { get; init; }

    public string? ItemId { get; init; }

    public string? UserId { get; init; }

    /// <summary>The ranking the interaction came from; its logged position is used.</summary>
    public string? RequestId { get; init; }

    /// <summary>Event time; default now.</summary>
    public DateTimeOffset? Timestamp { get; init; }
}

/// <summary>POST /v1/events.</summary>
public sealed record EventBatchRequest
{
    public IReadOnlyList<EventDto>? Events { get; init; }
}

/// <summary>One item's attributes in POST /v1/items.</summary>
public sealed record ItemDto
{
    /// <summary>The item's id (the id rule: 1-256 characters, no control characters).</summary>
    public string? Id { get; init; }

    /// <summary>Its category, if any (the same rule): the user-history features count a user's clicks per category.</summary>
    public string? Category { get; init; }

    /// <summary>Numeric attributes by name (at most 64; names of letters, digits and '_', starting with a letter); a surface's models use the ones it lists in ItemFeatures, as item.NAME.</summary>
    public IReadOnlyDictionary<string, double>? Attributes { get; init; }
}

/// <summary>POST /v1/items: items whose attributes are set (each replacing what the item had).</summary>
public sealed record ItemBatchRequest
{
    public IReadOnlyList<ItemDto?>? Items { get; init; }
}

/// <summary>The response of POST /v1/items.</summary>
/// <param name="Stored">Items now durable and used by the features.</param>
public sealed record ItemBatchResponse(int Stored);

/// <summary>Why one event of a batch was rejected.</summary>
public sealed record RejectedEvent(int Index, string Field, string Reason);

/// <summary>The response of POST /v1/events.</summary>
/// <param name="Accepted">New events, now durable and counted.</param>
/// <param name="Duplicates">Events whose id was seen before: acknowledged, counted once (earlier).</param>
/// <param name="Rejected">Invalid events, by index in the batch, with the field and the reason.</param>
public sealed record EventBatchResponse(int Accepted, int Duplicates, IReadOnlyList<RejectedEvent> Rejected);

/// <summary>Counter figures of one item in one segment (or overall).</summary>
public sealed record SegmentStatsDto(
    string Segment,
    double Impressions7d,
    double Clicks7d,
    double Impressions30d,
    double Clicks30d,
    double Ctr7d,
    double Ctr30d,
    double Trend,
    double HeuristicScore,
    string Level)
{
    public static SegmentStatsDto Of(Stats.SegmentStats s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return new(s.Segment, s.Impressions7d, s.Clicks7d, s.Impressions30d, s.Clicks30d, s.Ctr7d, s.Ctr30d, s.Trend, s.HeuristicScore, s.Level);
    }
}

/// <summary>GET /v1/items/{id}/stats.</summary>
public sealed record ItemStatsResponse(string ItemId, bool Known, string HeuristicVersion, SegmentStatsDto Overall, IReadOnlyList<SegmentStatsDto> Segments)
{
    public static ItemStatsResponse Of(Stats.ItemStats stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        return new(stats.ItemId, stats.Known, stats.HeuristicVersion, SegmentStatsDto.Of(stats.Overall), [.. stats.Segments.Select(SegmentStatsDto.Of)]);
    }
}

/// <summary>GET /v1/status.</summary>
public sealed record StatusResponse(
    string Version,
    string Store,
    long Rankings,
    long Impressions,
    long Events,
    long Users,
    int TrackedItems,
    long ImpressionLogQueued,
    long ImpressionLogDropped,
    string? StoreError,
    double UptimeSeconds,
    RuntimeStats? Runtime = null,
    SkippedRecordsDto? SkippedRecords = null,
    LogPositionDto? Log = null);

/// <summary>
/// How far this server has counted the log: every entry through <c>AppliedThrough</c> (replicas on one database
/// compare it to see which one lags), what the start loaded (the snapshot's sequence, or null when the whole log was
/// replayed) and read, the entries followed since from other replicas, and the shared state in use ("redis" or "none").
/// </summary>
public sealed record LogPositionDto(long AppliedThrough, long? SnapshotSequence, long ReplayedAtStart, long Followed, string SharedState);

/// <summary>Stored records the store could not decode and skipped (see <c>IEventStore.Skipped</c>): how many, and the first ones with their sequence numbers.</summary>
public sealed record SkippedRecordsDto(long Count, IReadOnlyList<Lasthope.Core.Storage.SkippedRecord> Records);

/// <summary>The process's own figures: garbage collections and their pauses, memory, thread pool.</summary>
public sealed record RuntimeStats(int Gen0Collections, int Gen1Collections, int Gen2Collections, double GcPauseTotalMs, double GcPausePercent, long HeapBytes, long WorkingSetBytes, int ThreadPoolThreads, long ThreadPoolQueueLength, string GcLatencyMode)
{
    public static RuntimeStats Capture()
    {
        var info = GC.GetGCMemoryInfo();
        return new RuntimeStats(
            GC.CollectionCount(0),
            GC.CollectionCount(1),
            GC.CollectionCount(2),
            GC.GetTotalPauseDuration().TotalMilliseconds,
            info.PauseTimePercentage,
            GC.GetTotalMemory(false),
            Environment.WorkingSet,
            ThreadPool.ThreadCount,
            ThreadPool.PendingWorkItemCount,
            System.Runtime.GCSettings.LatencyMode.ToString());
    }
}

/// <summary>Reads a candidate from a string or from <c>{"id": ..., "features": {...}}</c>.</summary>
public sealed class CandidateDtoConverter : JsonConverter<CandidateDto>
{
    public override CandidateDto Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return new CandidateDto(reader.GetString()!);
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonFieldException("A candidate must be an item id (string) or an object {\"id\": ..., \"features\": {...}}.");
        }

        string? id = null;
        Dictionary<string, double>? features = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString();
            reader.Read();
            if (string.Equals(name, "id", StringComparison.OrdinalIgnoreCase))
            {
                id = reader.TokenType == JsonTokenType.String ? reader.GetString() : throw new JsonFieldException("A candidate's id must be a string.");
            }
            else if (string.Equals(name, "features", StringComparison.OrdinalIgnoreCase))
            {
                features = reader.TokenType == JsonTokenType.Null ? null : ReadFeatures(ref reader);
            }
            else
            {
                reader.Skip();
            }
        }

        return new CandidateDto(id ?? throw new JsonFieldException("A candidate object needs an id."), features);
    }

    public override void Write(Utf8JsonWriter writer, CandidateDto value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        if (value.Features is null)
        {
            writer.WriteStringValue(value.Id);
            return;
        }

        writer.WriteStartObject();
        writer.WriteString("id", value.Id);
        writer.WriteStartObject("features");
        foreach (var (name, v) in value.Features)
        {
            writer.WriteNumber(name, v);
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static Dictionary<string, double> ReadFeatures(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonFieldException("A candidate's features must be an object of name: number.");
        }

        var features = new Dictionary<string, double>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out var value) || !double.IsFinite(value))
            {
                throw new JsonFieldException($"Feature '{name}' must be a finite number.");
            }

            features[name] = value;
        }

        return features;
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RankRequest))]
[JsonSerializable(typeof(RankResponse))]
[JsonSerializable(typeof(EventBatchRequest))]
[JsonSerializable(typeof(EventBatchResponse))]
[JsonSerializable(typeof(ItemBatchRequest))]
[JsonSerializable(typeof(ItemBatchResponse))]
[JsonSerializable(typeof(ItemStatsResponse))]
[JsonSerializable(typeof(StatusResponse))]
[JsonSerializable(typeof(ExperimentReportDto))]
[JsonSerializable(typeof(ModelDto))]
[JsonSerializable(typeof(ModelDto[]))]
[JsonSerializable(typeof(ExplainResponse))]
[JsonSerializable(typeof(RecommendRequest))]
[JsonSerializable(typeof(SimilarResponse))]
[JsonSerializable(typeof(PredictRequest))]
[JsonSerializable(typeof(PredictResponse))]
[JsonSerializable(typeof(PredictorDto[]))]
public sealed partial class ApiJsonContext : JsonSerializerContext;

/// <summary>What a field of a request must be, said by the API's own converters (shown to the client as it is).</summary>
public sealed class JsonFieldException : JsonException
{
    public JsonFieldException()
    {
    }

    public JsonFieldException(string message)
        : base(message)
    {
    }

    public JsonFieldException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
