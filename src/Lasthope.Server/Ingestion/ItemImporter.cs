using System.Globalization;
using System.Text.Json;
using nietras.SeparatedValues;

namespace Lasthope.Server.Ingestion;

/// <summary>What an item file's import did: its lines, the items stored, the lines rejected and why (the first few in full).</summary>
public sealed class ItemImportReport
{
    /// <summary>Rejected lines kept in full; the rest are counted by reason.</summary>
    public const int KeptRejections = 10;

    public long Lines { get; internal set; }

    public long Stored { get; internal set; }

    public long Rejected { get; internal set; }

    public List<(long Line, string Reason)> FirstRejections { get; } = [];

    public Dictionary<string, long> OtherRejections { get; } = new(StringComparer.Ordinal);

    internal void Reject(long line, string reason)
    {
        Rejected++;
        if (FirstRejections.Count < KeptRejections)
        {
            FirstRejections.Add((line, reason));
        }
        else
        {
            var key = reason.Split(':', 2)[0];
            OtherRejections[key] = OtherRejections.GetValueOrDefault(key) + 1;
        }
    }
}

/// <summary>The item catalog is full: the import stopped, having stored what came before.</summary>
public sealed class ItemCatalogFullException(string message) : Exception(message);

/// <summary>
/// Imports an item file into the store through <see cref="ItemIngestor"/>, line by line, in batches: CSV with a header
/// (<c>id</c>, an optional <c>category</c>, every other column a numeric attribute; an empty cell is absent), or JSON
/// lines in <c>POST /v1/items</c>'s item schema (<c>{"id": ..., "category": ..., "attributes": {...}}</c>). An invalid
/// line is rejected with its reason; the rest are stored. An item twice in the file keeps its last line.
/// </summary>
public sealed class ItemImporter(ItemIngestor ingestor)
{
    private const int BatchSize = 1_000;

    public async Task<ItemImportReport> ImportCsvAsync(Stream input, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var report = new ItemImportReport();
        var batch = new Dictionary<string, ItemInput>(StringComparer.Ordinal);
        using var reader = Sep.Reader(o => o with { Unescape = true }).From(input);
        var header = reader.Header;
        if (!header.TryIndexOf("id", out var idColumn))
        {
            throw new FormatException($"An item CSV needs an 'id' column; its columns are: {string.Join(", ", header.NamesStartingWith(""))}.");
        }

        var categoryColumn = header.TryIndexOf("category", out var c) ? c : -1;
        var attributes = header.NamesStartingWith("").Select((name, index) => (name, index)).Where(x => x.index != idColumn && x.index != categoryColumn).ToArray();
        long line = 1;
        foreach (var row in reader)
        {
            line++;
            report.Lines++;
            var numbers = new Dictionary<string, double>(StringComparer.Ordinal);
            string? problem = null;
            foreach (var (name, index) in attributes)
            {
                var text = row[index].ToString();
                if (text.Length == 0)
                {
                    continue;
                }

                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                {
                    problem = $"attributes.{name}: '{Core.Identifiers.Ids.Printable(text.Length > 40 ? text[..40] : text)}' is not a number";
                    break;
                }

                numbers[name] = value;
            }

            var category = categoryColumn >= 0 ? row[categoryColumn].ToString() : "";
            await AddAsync(new ItemInput(row[idColumn].ToString(), category.Length == 0 ? null : category, numbers), problem, line, batch, report, cancellationToken);
            if (batch.Count == 0)
            {
                progress?.Report(input.CanSeek ? input.Position : report.Lines);
            }
        }

        await FlushAsync(batch, report, cancellationToken);
        return report;
    }

    public async Task<ItemImportReport> ImportJsonLinesAsync(Stream input, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var report = new ItemImportReport();
        var batch = new Dictionary<string, ItemInput>(StringComparer.Ordinal);
        using var reader = new StreamReader(input);
        long line = 0;
        while (await reader.ReadLineAsync(cancellationToken) is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            report.Lines++;
            var (item, problem) = Parse(text);
            await AddAsync(item, problem, line, batch, report, cancellationToken);
            if (batch.Count == 0)
            {
                progress?.Report(input.CanSeek ? input.Position : report.Lines);
            }
        }

        await FlushAsync(batch, report, cancellationToken);
        return report;
    }

    private static (ItemInput? Item, string? Problem) Parse(string text)
    {
        try
        {
            using var json = JsonDocument.Parse(text);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, "the line is not a JSON object");
            }

            string? Text(string name) => root.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
            var numbers = new Dictionary<string, double>(StringComparer.Ordinal);
            if (root.TryGetProperty("attributes", out var attributes))
            {
                if (attributes.ValueKind != JsonValueKind.Object)
                {
                    return (null, "attributes: must be an object of numbers");
                }

                foreach (var property in attributes.EnumerateObject())
                {
                    if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetDouble(out var value))
                    {
                        return (null, $"attributes.{Core.Identifiers.Ids.Printable(property.Name)}: must be a number");
                    }

                    numbers[property.Name] = value;
                }
            }

            return (new ItemInput(Text("id"), Text("category"), numbers), null);
        }
        catch (JsonException e)
        {
            return (null, $"not JSON: {e.Message}");
        }
    }

    private async Task AddAsync(ItemInput? item, string? problem, long line, Dictionary<string, ItemInput> batch, ItemImportReport report, CancellationToken cancellationToken)
    {
        problem ??= ItemIngestor.Problem(item);
        if (problem is not null)
        {
            report.Reject(line, problem);
            return;
        }

        batch[item!.ItemId!] = item;
        if (batch.Count >= BatchSize)
        {
            await FlushAsync(batch, report, cancellationToken);
        }
    }

    private async Task FlushAsync(Dictionary<string, ItemInput> batch, ItemImportReport report, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return;
        }

        var result = await ingestor.StoreAsync([.. batch.Values], cancellationToken);
        if (result.CatalogFull)
        {
            throw new ItemCatalogFullException($"the item catalog is full (Limits:MaxItems); {report.Stored:N0} items were stored before it filled");
        }

        report.Stored += result.Stored;
        batch.Clear();
    }
}
