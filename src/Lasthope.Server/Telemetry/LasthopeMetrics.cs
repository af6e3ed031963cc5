using System.Diagnostics;
using System.Diagnostics.Metrics;
using Lasthope.Core.Serving;

namespace Lasthope.Server.Telemetry;

/// <summary>
/// The server's instruments, on one <see cref="Meter"/> named <see cref="MeterName"/>. Exported in Prometheus text
/// format at /metrics (lasthope_rank_requests_total, lasthope_rank_stage_duration_seconds_bucket, ...).
/// </summary>
public sealed class LasthopeMetrics
{
    public const string MeterName = "Lasthope.Server";

    private readonly Meter _meter;
    private readonly Counter<long> _rankRequests;
    private readonly Histogram<double> _rankDuration;
    private readonly Histogram<double> _stageDuration;
    private readonly Counter<long> _eventsAccepted;
    private readonly Counter<long> _eventsDuplicate;
    private readonly Counter<long> _eventsRejected;
    private readonly Counter<long> _impressions;
    private readonly Counter<long> _impressionLogDropped;
    private readonly Counter<long> _featureLogDropped;
    private readonly Histogram<int> _rerankDepth;
    private readonly Counter<long> _servingRejected;
    private readonly Counter<long> _predictRequests;
    private readonly Counter<long> _predictRows;
    private readonly Histogram<double> _predictDuration;
    private readonly Counter<long> _textRequests;
    private readonly Counter<long> _texts;
    private readonly Histogram<double> _textDuration;

    public LasthopeMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(MeterName);
        _rankRequests = _meter.CreateCounter<long>("lasthope.rank.requests", "{request}", "Rank requests served, by surface, arm, servedBy and fallbackReason.");
        _rankDuration = _meter.CreateHistogram<double>(
            "lasthope.rank.duration", "s", "Server-side latency of rank requests, by path.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _stageDuration = _meter.CreateHistogram<double>(
            "lasthope.rank.stage.duration", "s", "Latency of each rank pipeline stage, by path.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _eventsAccepted = _meter.CreateCounter<long>("lasthope.events.accepted", "{event}", "Interaction events accepted (new, durable, counted).");
        _eventsDuplicate = _meter.CreateCounter<long>("lasthope.events.duplicate", "{event}", "Interaction events whose id was seen before.");
        _eventsRejected = _meter.CreateCounter<long>("lasthope.events.rejected", "{event}", "Interaction events rejected as invalid.");
        _impressions = _meter.CreateCounter<long>("lasthope.impressions", "{impression}", "Items served (impressions logged).");
        _impressionLogDropped = _meter.CreateCounter<long>("lasthope.impression_log.dropped", "{ranking}", "Rankings the impression log could not keep (queue full).");
        _featureLogDropped = _meter.CreateCounter<long>("lasthope.feature_log.dropped", "{ranking}", "Rankings whose scored feature vectors could not be logged (queue full).");
        _servingRejected = _meter.CreateCounter<long>("lasthope.serving.rejected", "{request}", "Serving requests refused at the door (503) because Serving:MaxRequestsInFlight were in flight, by path.");
        _predictRequests = _meter.CreateCounter<long>("lasthope.predict.requests", "{request}", "Predict requests served, by predictor, servedBy and fallbackReason.");
        _predictRows = _meter.CreateCounter<long>("lasthope.predict.rows", "{row}", "Rows predicted, by predictor and source (model or fallback).");
        _predictDuration = _meter.CreateHistogram<double>(
            "lasthope.predict.duration", "s", "Server-side latency of predict requests, by path.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _textRequests = _meter.CreateCounter<long>("lasthope.text.requests", "{request}", "Text model requests served, by model, servedBy and fallbackReason.");
        _texts = _meter.CreateCounter<long>("lasthope.text.texts", "{text}", "Texts scored, by model and family (encoder or baseline).");
        _textDuration = _meter.CreateHistogram<double>(
            "lasthope.text.duration", "s", "Server-side latency of text model requests, by path.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _rerankDepth = _meter.CreateHistogram<int>(
            "lasthope.rerank.depth", "{item}", "How many of the top K the model scored, on the model path.", advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [0, 25, 50, 100, 150, 200, 250, 300, 400, 500, 750, 1000, 2000] });
    }

    /// <summary>Buckets from 0.1 ms to 1 s, dense around the 80 ms default budget.</summary>
    public static IReadOnlyList<double> LatencyBuckets { get; } =
        [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.07, 0.08, 0.085, 0.09, 0.1, 0.15, 0.25, 0.5, 1];

    public Meter Meter => _meter;

    public void RankServed(string surface, string? arm, ServedBy servedBy, FallbackReason? reason, double seconds, int impressions)
    {
        var path = servedBy.ToWire();
        var tags = new TagList
        {
            { "surface", Label(surface) },
            { "arm", arm is null ? "none" : Label(arm) },
            { "served_by", path },
            { "fallback_reason", reason?.ToWire() ?? "none" },
        };
        _rankRequests.Add(1, in tags);
        _rankDuration.Record(seconds, new KeyValuePair<string, object?>("served_by", path));
        _impressions.Add(impressions);
    }

    public void PredictServed(string predictor, ServedBy servedBy, FallbackReason? reason, double seconds, int modelRows, int fallbackRows)
    {
        var name = Label(predictor);
        var path = servedBy.ToWire();
        var tags = new TagList { { "predictor", name }, { "served_by", path }, { "fallback_reason", reason?.ToWire() ?? "none" } };
        _predictRequests.Add(1, in tags);
        _predictDuration.Record(seconds, new KeyValuePair<string, object?>("served_by", path));
        _predictRows.Add(modelRows, new KeyValuePair<string, object?>("predictor", name), new KeyValuePair<string, object?>("source", "model"));
        _predictRows.Add(fallbackRows, new KeyValuePair<string, object?>("predictor", name), new KeyValuePair<string, object?>("source", "fallback"));
    }

    public void TextServed(string model, ServedBy servedBy, FallbackReason? reason, double seconds, int texts)
    {
        var name = Label(model);
        var path = servedBy.ToWire();
        var tags = new TagList { { "model", name }, { "served_by", path }, { "fallback_reason", reason?.ToWire() ?? "none" } };
        _textRequests.Add(1, in tags);
        _textDuration.Record(seconds, new KeyValuePair<string, object?>("served_by", path));
        _texts.Add(texts, new KeyValuePair<string, object?>("model", name), new KeyValuePair<string, object?>("family", servedBy == ServedBy.Model ? "encoder" : "baseline"));
    }

    public void Stage(string stage, ServedBy servedBy, double seconds)
        => _stageDuration.Record(seconds, new KeyValuePair<string, object?>("stage", stage), new KeyValuePair<string, object?>("served_by", servedBy.ToWire()));

    public void Events(int accepted, int duplicates, int rejected)
    {
        _eventsAccepted.Add(accepted);
        _eventsDuplicate.Add(duplicates);
        _eventsRejected.Add(rejected);
    }

    public void ImpressionLogDropped(int count) => _impressionLogDropped.Add(count);

    public void ServingRejected(string route) => _servingRejected.Add(1, new KeyValuePair<string, object?>("path", Label(route)));

    public void FeatureLogDropped(int count) => _featureLogDropped.Add(count);

    public void RerankDepth(string surface, int depth) => _rerankDepth.Record(depth, new KeyValuePair<string, object?>("surface", Label(surface)));

    /// <summary>
    /// A label value safe in Prometheus text: printable ASCII without quotes or backslashes, at most 64 characters.
    /// Label values already come from closed sets (configured surfaces and arms, route templates, enums); this is the
    /// second line of defence, and it returns the same string, unallocated, when there is nothing to change.
    /// </summary>
    public static string Label(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length <= 64 && !value.AsSpan().ContainsAnyExcept(SafeLabelChars))
        {
            return value;
        }

        var chars = value.AsSpan(0, Math.Min(64, value.Length)).ToArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (!SafeLabelChars.Contains(chars[i]))
            {
                chars[i] = '_';
            }
        }

        return new string(chars);
    }

    private static readonly System.Buffers.SearchValues<char> SafeLabelChars = System.Buffers.SearchValues.Create(
        " !#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    /// <summary>Publishes the fallback rate over the alarm's sliding window as a gauge.</summary>
    /// <summary>The serving door's current limit and the smoothed wait for a CPU turn that drives it.</summary>
    public void ObserveDoor(Func<int> limit, Func<double> waitMs)
    {
        _meter.CreateObservableGauge("lasthope.serving.limit", limit, "{request}", "The serving door's current limit of requests inside at once (adaptive, between Serving:MinRequestsInFlight and MaxRequestsInFlight).");
        _meter.CreateObservableGauge("lasthope.serving.turn_wait", () => waitMs() / 1000, "s", "The smoothed wait for a CPU turn that the door's limit follows.");
    }

    public void ObserveFallbackRate(Func<double> rate) =>
        _meter.CreateObservableGauge("lasthope.fallback.rate", rate, "1", "Share of model-path rank requests served by the heuristic fallback, over the alarm window.");
}
