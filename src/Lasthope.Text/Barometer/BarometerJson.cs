using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lasthope.Text.Barometer;

/// <summary>What a barometer was computed from, for the JSON document and the HTML page. Every field is optional.</summary>
/// <param name="Model">The text model's name (and version) that labelled the texts.</param>
/// <param name="Input">The input file's name.</param>
/// <param name="TextColumn">The text column.</param>
/// <param name="DateColumn">The date column.</param>
/// <param name="Rule">How probabilities became polarities.</param>
/// <param name="Mapping">Which classes were positive, negative and neutral (<see cref="PolarityMapping.ToString"/>).</param>
public sealed record BarometerDescription(
    string? Model = null,
    string? Input = null,
    string? TextColumn = null,
    string? DateColumn = null,
    PolarityRule Rule = PolarityRule.MostLikely,
    string? Mapping = null);

/// <summary>
/// The JSON document of a barometer (<c>lasthope barometer --json</c>), version 1:
/// <code>
/// { "format": "lasthope.barometer", "version": 1,
///   "model": "...", "input": "...", "textColumn": "...", "dateColumn": "...",   (each omitted when unknown)
///   "polarity": "mostLikely" | "expected", "mapping": "positive: ...; negative: ...; neutral: ...",
///   "period": "day" | "week" | "month", "smoothingWindow": 4, "smoothing": "trailing, count-weighted",
///   "level": 0.95, "resamples": 1000, "seed": 42, "texts": 1532,
///   "points": [ { "label": "2024-W10", "start": "2024-03-04", "end": "2024-03-10", "count": 12,
///                 "positiveShare": 0.5, "negativeShare": 0.25, "index": 0.25, "lower": 0.0, "upper": 0.5,
///                 "smoothed": 0.2, "smoothedCount": 40 }, ... ] }
/// </code>
/// Points are in calendar order, one per period from the first text's to the last's. A gap (no text) has count 0 and
/// null shares, index, bounds and smoothed value: the nulls are written, not omitted, so every point has every key.
/// Dates are ISO 8601 calendar dates.
/// </summary>
public sealed record BarometerDocument(
    string Format,
    int Version,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Model,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Input,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TextColumn,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? DateColumn,
    string Polarity,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Mapping,
    string Period,
    int SmoothingWindow,
    string Smoothing,
    double Level,
    int Resamples,
    int Seed,
    int Texts,
    IReadOnlyList<BarometerPointDocument> Points)
{
    /// <summary>The value of <see cref="Format"/>.</summary>
    public const string FormatName = "lasthope.barometer";

    /// <summary>The version this code writes and reads.</summary>
    public const int CurrentVersion = 1;
}

/// <summary>A point of <see cref="BarometerDocument"/>: <see cref="BarometerPoint"/> with its dates as ISO strings.</summary>
public sealed record BarometerPointDocument(
    string Label,
    string Start,
    string End,
    int Count,
    double? PositiveShare,
    double? NegativeShare,
    double? Index,
    double? Lower,
    double? Upper,
    double? Smoothed,
    int SmoothedCount);

/// <summary>Writes and reads <see cref="BarometerDocument"/>.</summary>
public static class BarometerJson
{
    /// <summary>The document of <paramref name="result"/>.</summary>
    public static BarometerDocument Document(BarometerResult result, BarometerDescription? description = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        description ??= new BarometerDescription();
        var o = result.Options;
        return new BarometerDocument(
            BarometerDocument.FormatName,
            BarometerDocument.CurrentVersion,
            description.Model,
            description.Input,
            description.TextColumn,
            description.DateColumn,
            description.Rule == PolarityRule.Expected ? "expected" : "mostLikely",
            description.Mapping,
            o.Period.ToString().ToLowerInvariant(),
            o.SmoothingWindow,
            "trailing, count-weighted",
            o.Level,
            o.Resamples,
            o.Seed,
            result.Texts,
            [.. result.Points.Select(p => new BarometerPointDocument(
                p.Label, Iso(p.Start), Iso(p.End), p.Count, p.PositiveShare, p.NegativeShare, p.Index, p.Lower, p.Upper, p.Smoothed, p.SmoothedCount))]);
    }

    /// <summary>The document of <paramref name="result"/> as indented camelCase JSON.</summary>
    public static string Serialize(BarometerResult result, BarometerDescription? description = null) =>
        JsonSerializer.Serialize(Document(result, description), BarometerJsonContext.Default.BarometerDocument);

    /// <summary>Reads a document; throws <see cref="JsonException"/> when it is not a barometer of a version this code reads.</summary>
    public static BarometerDocument Deserialize(string json)
    {
        var document = JsonSerializer.Deserialize(json, BarometerJsonContext.Default.BarometerDocument)
            ?? throw new JsonException("The document is null.");
        if (document.Format != BarometerDocument.FormatName || document.Version != BarometerDocument.CurrentVersion)
        {
            throw new JsonException($"Not a {BarometerDocument.FormatName} document of version {BarometerDocument.CurrentVersion} (format '{document.Format}', version {document.Version}).");
        }

        return document;
    }

    private static string Iso(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}

/// <summary>The source-generated serialiser of <see cref="BarometerDocument"/>: camelCase, indented, nulls written (except the description's).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(BarometerDocument))]
public sealed partial class BarometerJsonContext : JsonSerializerContext;
