using System.Text.Json;
using System.Text.Json.Serialization;
using Lasthope.Core.Serving;

namespace Lasthope.Client;

/// <summary>The user a ranking is for: the segment is explicit, or derived from age and gender, or remembered by the server.</summary>
public sealed record UserRef(string Id)
{
    public int? Age { get; init; }

    public string? Gender { get; init; }

    public string? Segment { get; init; }
}

/// <summary>A candidate: written as a bare id, or as {"id", "features"} when it carries request features.</summary>
[JsonConverter(typeof(CandidateConverter))]
public sealed record Candidate(string Id, IReadOnlyDictionary<string, double>? Features = null)
{
    public static implicit operator Candidate(string id) => new(id);

    public static Candidate FromString(string id) => new(id);
}

/// <summary>POST /v1/rank.</summary>
public sealed record RankRequest
{
    public string? RequestId { get; init; }

    public string? Surface { get; init; }

    public required UserRef User { get; init; }

    public required IReadOnlyList<Candidate> Candidates { get; init; }

    public int? Count { get; init; }

    public IReadOnlyList<string>? Exclude { get; init; }

    public int? RerankDepth { get; init; }

    public double? BudgetMs { get; init; }
}

/// <summary>One ranked item of a response; <c>Propensity</c> is the probability that the serving policy puts it at this rank (1 without exploration).</summary>
public sealed record RankedItem(string Id, int Rank, double Score, ItemSource Source, double Propensity = 1);

/// <summary>The experiment arm a request was served under.</summary>
public sealed record ExperimentRef(string Id, string Arm);

/// <summary>A served list with its served-path contract: the answer of POST /v1/rank and POST /v1/recommend.</summary>
public sealed record RankResponse
{
    public required string RequestId { get; init; }

    public required ServedBy ServedBy { get; init; }

    public FallbackReason? FallbackReason { get; init; }

    public string? ModelVersion { get; init; }

    public required string HeuristicVersion { get; init; }

    public int RerankDepth { get; init; }

    public double BudgetMs { get; init; }

    public ExperimentRef? Experiment { get; init; }

    /// <summary>Whether the exploration policy shuffled the top of this list.</summary>
    public bool Explored { get; init; }

    public required string Segment { get; init; }

    public required IReadOnlyList<RankedItem> Items { get; init; }

    public required IReadOnlyDictionary<string, double> Timings { get; init; }

    public required IReadOnlyList<string> Notes { get; init; }

    public int UnknownItems { get; init; }
}

/// <summary>One interaction event of POST /v1/events.</summary>
public sealed record InteractionEvent(string EventId, string ItemId)
{
    public string? Type { get; init; }

    public string? UserId { get; init; }

    public string? RequestId { get; init; }

    public DateTimeOffset? Timestamp { get; init; }
}

/// <summary>POST /v1/events.</summary>
public sealed record EventBatch(IReadOnlyList<InteractionEvent> Events);

/// <summary>An event of a batch that was not taken, and why.</summary>
public sealed record RejectedEvent(int Index, string Field, string Reason);

/// <summary>What became of a batch: accepted events are durable and counted; duplicates were acknowledged before.</summary>
public sealed record EventBatchResult(int Accepted, int Duplicates, IReadOnlyList<RejectedEvent> Rejected);

/// <summary>One item's attributes for POST /v1/items.</summary>
public sealed record ItemInfo(string Id, string? Category, IReadOnlyDictionary<string, double> Attributes);

/// <summary>POST /v1/items.</summary>
public sealed record ItemBatch(IReadOnlyList<ItemInfo> Items);

/// <summary>What became of an item batch: all of it stored (an invalid batch is an error).</summary>
public sealed record ItemBatchResult(int Stored);

/// <summary>A registered model.</summary>
public sealed record ModelInfo(
    string Version,
    string Surface,
    string Kind,
    IReadOnlyList<string> Features,
    string Fingerprint,
    DateTimeOffset RegisteredAt,
    DateTimeOffset? TrainedFrom,
    DateTimeOffset? TrainedTo,
    string? Parameters,
    string? Metrics,
    IReadOnlyList<string> ActiveOn,
    double? WarmUpMs = null);

/// <summary>GET /v1/status (the figures a client usually reads).</summary>
public sealed record ServerStatus(string Version, string Store, long Rankings, long Impressions, long Events, long Users, int TrackedItems, long ImpressionLogQueued, long ImpressionLogDropped, string? StoreError, double UptimeSeconds);

/// <summary>A problem details body (RFC 7807), as every error of the API is.</summary>
public sealed record Problem(string? Title, string? Detail, int? Status)
{
    /// <summary>Messages by field: a JSON path into the body, query.NAME or route.NAME.</summary>
    public IReadOnlyDictionary<string, string[]>? Errors { get; init; }
}

/// <summary>Writes a candidate as the API reads it: a bare id, or an object with its features.</summary>
public sealed class CandidateConverter : JsonConverter<Candidate>
{
    public override Candidate Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return new Candidate(reader.GetString()!);
        }

        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        var features = root.TryGetProperty("features", out var f) && f.ValueKind == JsonValueKind.Object
            ? f.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble(), StringComparer.Ordinal)
            : null;
        return new Candidate(root.GetProperty("id").GetString()!, features);
    }

    public override void Write(Utf8JsonWriter writer, Candidate value, JsonSerializerOptions options)
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
}

/// <summary>An estimate with its interval.</summary>
public sealed record ReportInterval(double Estimate, double Lower, double Upper, double Level);

/// <summary>The requests of an experiment arm that one path served.</summary>
public sealed record ExperimentPathCell(ServedBy ServedBy, FallbackReason? FallbackReason, int Requests, long Impressions, long Clicks, double? Ctr);

/// <summary>An experiment arm's requests of one UTC day, and how many the model served.</summary>
public sealed record ExperimentArmDay(DateOnly Day, int Requests, long Impressions, long Clicks, int ServedByModel, double? Ctr);

/// <summary>One arm of an experiment readout.</summary>
public sealed record ExperimentArmReadout(
    string Arm, int Users, int Requests, long Impressions, long Clicks, ReportInterval Ctr, ReportInterval? EffectVsControl,
    bool MeantModel, double FallbackShare, double PartialShare, IReadOnlyList<ExperimentPathCell> Paths, IReadOnlyList<ExperimentArmDay> Days);

/// <summary>The sample-ratio test of users per arm.</summary>
public sealed record ExperimentSampleRatio(double ChiSquare, int DegreesOfFreedom, double PValue, bool Alarm);

/// <summary>The fallback-skew alarm of an experiment.</summary>
public sealed record ExperimentFallbackSkew(string? Arm, double FallbackShare, double PartialShare, double Threshold, bool Alarm);

/// <summary>The answer of GET /v1/experiments/{id}/report.</summary>
public sealed record ExperimentReadoutResponse(
    string ExperimentId, string Control, IReadOnlyList<ExperimentArmReadout> Arms, ExperimentSampleRatio Srm, ExperimentFallbackSkew FallbackSkew, string Verdict);

/// <summary>POST /v1/predict/{name}: one row (<see cref="Features"/>) or several (<see cref="Rows"/>); a value is a number, a category's name (string) or null.</summary>
public sealed record PredictRequest
{
    public IReadOnlyDictionary<string, object?>? Features { get; init; }

    public IReadOnlyList<PredictRow>? Rows { get; init; }

    /// <summary>Reasons per row (0 to 20; the server's default is 5).</summary>
    public int? Explain { get; init; }

    public bool? Counterfactual { get; init; }

    public string? Version { get; init; }

    public double? BudgetMs { get; init; }
}

public sealed record PredictRow(IReadOnlyDictionary<string, object?> Features);

public sealed record PredictionReason(string Feature, string Value, double Contribution, string Phrase);

public sealed record PredictionCounterfactual(string Feature, string From, string To, string Decision, double Score);

/// <summary>One row's answer: which scorer (<c>model</c> or <c>fallback</c>), the score, the decision and the reasons.</summary>
public sealed record PredictionRow(
    string Source, double Score, string? Decision, IReadOnlyDictionary<string, double>? Probabilities, double RawScore, double? BaseValue,
    IReadOnlyList<PredictionReason>? Reasons, IReadOnlyList<PredictionCounterfactual>? Counterfactuals);

public sealed record PredictTimings(double TotalMs, double ModelMs);

/// <summary>The answer of POST /v1/predict/{name}, with the served-path contract.</summary>
public sealed record PredictResponse(
    string RequestId, string Predictor, string ModelVersion, string Task, ServedBy ServedBy, FallbackReason? FallbackReason, string Fallback,
    int ModelRows, double BudgetMs, PredictTimings Timings, IReadOnlyList<PredictionRow> Predictions);

/// <summary>The client's JSON, source-generated, with the API's conventions (camelCase, nulls omitted).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RankRequest))]
[JsonSerializable(typeof(RankResponse))]
[JsonSerializable(typeof(EventBatch))]
[JsonSerializable(typeof(EventBatchResult))]
[JsonSerializable(typeof(ItemBatch))]
[JsonSerializable(typeof(ItemBatchResult))]
[JsonSerializable(typeof(ModelInfo))]
[JsonSerializable(typeof(ModelInfo[]))]
[JsonSerializable(typeof(ServerStatus))]
[JsonSerializable(typeof(Problem))]
[JsonSerializable(typeof(ExperimentReadoutResponse))]
[JsonSerializable(typeof(PredictRequest))]
[JsonSerializable(typeof(PredictResponse))]
[JsonSerializable(typeof(double))]
[JsonSerializable(typeof(string))]
public sealed partial class ClientJson : JsonSerializerContext;
