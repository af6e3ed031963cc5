using System.Globalization;
using System.Text.Json;
using Lasthope.Core.Events;
using Lasthope.Core.Identifiers;
using Lasthope.Core.Segments;
using Lasthope.Core.Serving;
using Lasthope.Core.Storage;
using Lasthope.Server.Configuration;
using Lasthope.Server.State;
using nietras.SeparatedValues;

namespace Lasthope.Server.Ingestion;

/// <summary>
/// Which CSV columns hold what. Each CSV row is one impression of one item at one position (as in Open Bandit's
/// logs), with an optional click flag or weight. Only <see cref="Item"/> is required.
/// </summary>
public sealed record CsvMapping
{
    public required string Item { get; init; }

    public string? Position { get; init; }

    /// <summary>0/1, or a click weight; a positive value logs a click attributed to the row's impression.</summary>
    public string? Click { get; init; }

    public string? Time { get; init; }

    /// <summary>A user-feature column whose value becomes the segment, named "column=value".</summary>
    public string? Segment { get; init; }

    public string? User { get; init; }

    public string? Age { get; init; }

    public string? Gender { get; init; }

    /// <summary>Rows sharing a request id form one ranking; without it each row is its own ranking.</summary>
    public string? Request { get; init; }

    /// <summary>The logging policy's probability of this item at this position, in (0, 1] (default 1): what off-policy estimates divide by.</summary>
    public string? Propensity { get; init; }

    public string Surface { get; init; } = "import";

    /// <summary>The Open Bandit Dataset's columns, with user_feature_0 as the segment.</summary>
    public static CsvMapping OpenBandit { get; } = new() { Item = "item_id", Position = "position", Click = "click", Time = "timestamp", Segment = "user_feature_0", Propensity = "propensity_score", Surface = "open-bandit" };

    /// <summary>Parses "item=item_id,position=position,click=click,..."; throws <see cref="FormatException"/> naming the bad key.</summary>
    public static CsvMapping Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var pairs = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=', 2, StringSplitOptions.TrimEntries);
            if (kv.Length != 2 || kv[1].Length == 0)
            {
                throw new FormatException($"Mapping entry '{part}' is not key=column.");
            }

            pairs[kv[0]] = kv[1];
        }

        string[] known = ["item", "position", "click", "time", "segment", "user", "age", "gender", "request", "propensity", "surface"];
        if (pairs.Keys.FirstOrDefault(k => !known.Contains(k, StringComparer.OrdinalIgnoreCase)) is { } unknown)
        {
            throw new FormatException($"Unknown mapping key '{unknown}'; known keys: {string.Join(", ", known)}.");
        }

        if (!pairs.TryGetValue("item", out var item))
        {
            throw new FormatException("The mapping must name the item column (item=COLUMN).");
        }

        return new CsvMapping
        {
            Item = item,
            Position = pairs.GetValueOrDefault("position"),
            Click = pairs.GetValueOrDefault("click"),
            Time = pairs.GetValueOrDefault("time"),
            Segment = pairs.GetValueOrDefault("segment"),
            User = pairs.GetValueOrDefault("user"),
            Age = pairs.GetValueOrDefault("age"),
            Gender = pairs.GetValueOrDefault("gender"),
            Request = pairs.GetValueOrDefault("request"),
            Propensity = pairs.GetValueOrDefault("propensity"),
            Surface = pairs.GetValueOrDefault("surface") ?? "import",
        };
    }
}

/// <summary>What an import did.</summary>
public sealed class ImportReport
{
    /// <summary>Rejections kept in full; the rest are counted by reason.</summary>
    public const int DetailedRejections = 10;

    public long Lines { get; internal set; }

    public long AcceptedLines { get; internal set; }

    public long RejectedLines { get; internal set; }

    public long Rankings { get; internal set; }

    public long Impressions { get; internal set; }

    public long Events { get; internal set; }

    public long DuplicateEvents { get; internal set; }

    /// <summary>
    /// Impressions older than the counters' long window at the import's clock: stored, and read by training and
    /// off-policy estimates, but counted by no window of a server whose clock is now.
    /// </summary>
    public long ImpressionsOutsideWindow { get; internal set; }

    /// <summary>The time of the newest imported ranking.</summary>
    public DateTimeOffset? Newest { get; internal set; }

    /// <summary>The counters' long window the import compared the history with.</summary>
    public TimeSpan LongWindow { get; internal set; }

    /// <summary>Where that window started at the import's clock.</summary>
    public DateTimeOffset WindowStart { get; internal set; }

    /// <summary>The first rejections: line number (1-based, header included) and reason.</summary>
    public List<(long Line, string Reason)> FirstRejections { get; } = [];

    /// <summary>Rejections past the first few, counted by reason.</summary>
    public Dictionary<string, long> OtherRejections { get; } = new(StringComparer.Ordinal);

    internal void Reject(long line, string reason, string kind)
    {
        RejectedLines++;
        if (FirstRejections.Count < DetailedRejections)
        {
            FirstRejections.Add((line, reason));
        }
        else
        {
            OtherRejections[kind] = OtherRejections.GetValueOrDefault(kind) + 1;
        }
    }
}

/// <summary>
/// Loads historical logs, impressions included, into a store: JSONL in the API's schema (a line with "items" is a
/// served ranking, a line with "itemId" an interaction event) or CSV with a column mapping. Events go through the same
/// <see cref="EventIngestor"/> as POST /v1/events, so validation, attribution and de-duplication are identical.
/// Import into a data directory while no server is running on it, or restart the server afterwards: a running
/// server rebuilds its counters from the store only at start.
/// </summary>
public sealed class LogImporter
{
    private const int BatchSize = 2_000;
    private readonly IEventStore _store;
    private readonly SegmentScheme _segments;
    private readonly EventIngestor _ingestor;
    private readonly RecentRankings _recent;
    private readonly TimeProvider _time;
    private readonly TimeSpan _longWindow;

    public LogImporter(IEventStore store, LasthopeOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _time = time;
        _segments = new SegmentScheme(options.Segments);
        _recent = new RecentRankings(BatchSize * 4);
        _longWindow = options.Counters.LongWindow;
        _ingestor = new EventIngestor(store, CounterState.CreateEmpty(options, time), _recent, new UserSegments(), options.Events, time, metrics: null, history: true);
    }

    /// <summary>Imports JSONL. <paramref name="progress"/> receives the bytes consumed so far.</summary>
    public async Task<ImportReport> ImportJsonLinesAsync(Stream input, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var report = NewReport();
        var batch = new Batch();
        using var reader = new StreamReader(input);
        string? line;
        while ((line = await reader.ReadLineAsync(cancellationToken)) is not null)
        {
            report.Lines++;
            if (string.IsNullOrWhiteSpace(line))
            {
                report.Lines--;
                continue;
            }

            try
            {
                using var document = JsonDocument.Parse(line);
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    report.Reject(report.Lines, "not a JSON object", "not an object");
                }
                else if (root.TryGetProperty("items", out _))
                {
                    AddRanking(batch, report, JsonRanking(root, report.Lines), countLine: true);
                }
                else
                {
                    var logged = root.Deserialize(ImportJsonContext.Default.ImportedEvent)!;
                    batch.Events.Add((report.Lines, new EventInput(logged.EventId, logged.ItemId, logged.Type, logged.UserId, logged.RequestId, logged.Timestamp)));
                }
            }
            catch (JsonException e)
            {
                report.Reject(report.Lines, $"invalid JSON: {e.Message.Split(" Path:", 2)[0]}", "invalid JSON");
            }
            catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException)
            {
                // A property of the wrong kind (GetString on a number) or missing (GetProperty("id")).
                report.Reject(report.Lines, $"invalid ranking: {e.Message}", "invalid ranking");
            }
            catch (FormatException e)
            {
                report.Reject(report.Lines, e.Message, "invalid ranking");
            }

            if (batch.Count >= BatchSize)
            {
                await FlushAsync(batch, report, cancellationToken);
                progress?.Report(input.CanSeek ? input.Position : report.Lines);
            }
        }

        await FlushAsync(batch, report, cancellationToken);
        progress?.Report(input.CanSeek ? input.Length : report.Lines);
        return report;
    }

    /// <summary>Imports CSV with a header row, mapped by <paramref name="mapping"/>.</summary>
    public async Task<ImportReport> ImportCsvAsync(Stream input, CsvMapping mapping, string requestIdPrefix, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(mapping);
        var report = NewReport();
        var batch = new Batch();
        using var reader = Sep.Reader(o => o with { Unescape = true }).From(input);
        var header = reader.Header;
        foreach (var column in new[] { mapping.Item, mapping.Position, mapping.Click, mapping.Time, mapping.Segment, mapping.User, mapping.Age, mapping.Gender, mapping.Request, mapping.Propensity })
        {
            if (column is not null && !header.TryIndexOf(column, out _))
            {
                throw new FormatException($"The CSV has no column '{column}'; its columns are: {string.Join(", ", header.NamesStartingWith(""))}.");
            }
        }

        long lineNumber = 1;
        foreach (var row in reader)
        {
            lineNumber++;
            report.Lines++;
            var reason = TryCsvRow(row, mapping, requestIdPrefix, lineNumber, out var ranking, out var click);
            if (reason is not null)
            {
                report.Reject(lineNumber, reason, reason.Split(':', 2)[0]);
                continue;
            }

            AddRanking(batch, report, ranking!, countLine: click is null);
            if (click is not null)
            {
                batch.Events.Add((lineNumber, click));
            }

            if (batch.Count >= BatchSize)
            {
                await FlushAsync(batch, report, cancellationToken);
                progress?.Report(input.CanSeek ? input.Position : report.Lines);
            }
        }

        await FlushAsync(batch, report, cancellationToken);
        progress?.Report(input.CanSeek ? input.Length : report.Lines);
        return report;
    }

    private string? TryCsvRow(SepReader.Row row, CsvMapping mapping, string prefix, long line, out RankingLog? ranking, out EventInput? click)
    {
        ranking = null;
        click = null;
        var item = row[mapping.Item].ToString();
        if (item.Length == 0)
        {
            return $"missing item: column '{mapping.Item}' is empty";
        }

        if (Ids.Problem(item) is { } itemProblem)
        {
            return $"bad item: the id {itemProblem}";
        }

        var position = 1;
        if (mapping.Position is not null && (!int.TryParse(row[mapping.Position].Span, NumberStyles.Integer, CultureInfo.InvariantCulture, out position) || position < 1))
        {
            return $"bad position: '{row[mapping.Position].ToString()}' is not a positive integer";
        }

        var time = _time.GetUtcNow();
        if (mapping.Time is not null && !DateTimeOffset.TryParse(row[mapping.Time].Span, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time))
        {
            return $"bad timestamp: '{row[mapping.Time].ToString()}' is not a date and time";
        }

        var weight = 0.0;
        if (mapping.Click is not null && (!double.TryParse(row[mapping.Click].Span, NumberStyles.Float, CultureInfo.InvariantCulture, out weight) || !double.IsFinite(weight) || weight < 0))
        {
            return $"bad click: '{row[mapping.Click].ToString()}' is not a non-negative number";
        }

        var propensity = 1.0;
        if (mapping.Propensity is not null && (!double.TryParse(row[mapping.Propensity].Span, NumberStyles.Float, CultureInfo.InvariantCulture, out propensity) || !(propensity > 0 && propensity <= 1)))
        {
            return $"bad propensity: '{row[mapping.Propensity].ToString()}' is not a probability in (0, 1]";
        }

        int? age = null;
        if (mapping.Age is not null && int.TryParse(row[mapping.Age].Span, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsedAge))
        {
            age = parsedAge;
        }

        var explicitSegment = mapping.Segment is null ? null : $"{mapping.Segment}={row[mapping.Segment].ToString()}";
        var segment = _segments.Resolve(age, mapping.Gender is null ? null : row[mapping.Gender].ToString(), explicitSegment);
        var user = mapping.User is null ? null : row[mapping.User].ToString();
        var requestId = mapping.Request is null ? $"{prefix}:{line}" : row[mapping.Request].ToString();
        if ((user is not null && Ids.Problem(user) is { } userProblem ? $"bad user: the id {userProblem}" : null) is { } badUser)
        {
            return badUser;
        }

        if (Ids.Problem(requestId) is { } requestProblem)
        {
            return $"bad request: the id {requestProblem}";
        }

        ranking = new RankingLog
        {
            RequestId = requestId,
            Time = time,
            UserId = string.IsNullOrEmpty(user) ? null : user,
            Segment = segment,
            Surface = mapping.Surface,
            Items = [new ServedItem(item, position, 0, ItemSource.Heuristic, propensity)],
            ServedBy = ServedBy.Heuristic,
            HeuristicVersion = "import",
        };
        if (weight > 0)
        {
            click = new EventInput($"{requestId}:{item}:click", item, weight == 1 ? null : WeightedType(weight), ranking.UserId, requestId, time);
        }

        return null;
    }

    private static string? WeightedType(double weight) => weight == 3 ? "conversion" : null;

    private RankingLog JsonRanking(JsonElement root, long line)
    {
        var requestId = root.TryGetProperty("requestId", out var rid) && rid.ValueKind == JsonValueKind.String ? rid.GetString()! : $"jsonl:{line}";
        var time = root.TryGetProperty("timestamp", out var ts) ? ts.GetDateTimeOffset() : _time.GetUtcNow();
        var user = root.TryGetProperty("user", out var u) && u.ValueKind == JsonValueKind.Object ? u.Deserialize(ImportJsonContext.Default.ImportedUser) : null;
        var surface = root.TryGetProperty("surface", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()! : "import";
        var items = new List<ServedItem>();
        var index = 0;
        foreach (var entry in root.GetProperty("items").EnumerateArray())
        {
            index++;
            var (id, position, propensity) = entry.ValueKind switch
            {
                JsonValueKind.String => (entry.GetString()!, index, 1.0),
                JsonValueKind.Object => (
                    entry.GetProperty("id").GetString()!,
                    entry.TryGetProperty("position", out var p) ? p.GetInt32() : index,
                    entry.TryGetProperty("propensity", out var q) ? q.GetDouble() : 1.0),
                _ => throw new FormatException($"items[{index - 1}] must be an id or {{\"id\", \"position\", \"propensity\"}}"),
            };
            if (Ids.Problem(id) is { } problem || position < 1 || !(propensity > 0 && propensity <= 1))
            {
                throw new FormatException($"items[{index - 1}] needs a valid id (1 to 256 characters without control characters), a position of at least 1 and a propensity in (0, 1]");
            }

            items.Add(new ServedItem(id, position, 0, ItemSource.Heuristic, propensity));
        }

        if (items.Count == 0)
        {
            throw new FormatException("a ranking needs at least one item");
        }

        if (Ids.Problem(requestId) is { } requestProblem || (user?.Id is { } userId && Ids.Problem(userId) is not null))
        {
            throw new FormatException($"the ranking's requestId or user.id is not a valid id (1 to 256 characters without control characters)");
        }

        var servedBy = root.TryGetProperty("servedBy", out var sb) && sb.ValueKind == JsonValueKind.String ? WireNames.ParseServedBy(sb.GetString()!) : ServedBy.Heuristic;
        return new RankingLog
        {
            RequestId = requestId,
            Time = time,
            UserId = user?.Id,
            Segment = _segments.Resolve(user?.Age, user?.Gender, user?.Segment),
            Surface = surface,
            Items = items,
            ServedBy = servedBy,
            HeuristicVersion = "import",
        };
    }

    /// <summary>A report whose window starts the counters' long window before the import's clock.</summary>
    private ImportReport NewReport() => new() { LongWindow = _longWindow, WindowStart = _time.GetUtcNow() - _longWindow };

    private void AddRanking(Batch batch, ImportReport report, RankingLog ranking, bool countLine)
    {
        if (ranking.Time < report.WindowStart)
        {
            report.ImpressionsOutsideWindow += ranking.Items.Count;
        }

        report.Newest = report.Newest is { } newest && newest >= ranking.Time ? newest : ranking.Time;
        batch.Rankings.Add(ranking);
        _recent.Add(ranking);
        report.Rankings++;
        report.Impressions += ranking.Items.Count;
        if (countLine)
        {
            report.AcceptedLines++;
        }
    }

    /// <summary>Rankings first, so that the events of the batch find their rankings.</summary>
    private async Task FlushAsync(Batch batch, ImportReport report, CancellationToken cancellationToken)
    {
        if (batch.Rankings.Count > 0)
        {
            await _store.AppendRankingsAsync(batch.Rankings, cancellationToken);
            batch.Rankings.Clear();
        }

        if (batch.Events.Count > 0)
        {
            var result = await _ingestor.IngestAsync([.. batch.Events.Select(e => e.Event)], cancellationToken);
            var rejectedIndices = new HashSet<int>(result.Rejected.Select(r => r.Index));
            foreach (var rejected in result.Rejected)
            {
                var field = rejected.Field.Length == 0 ? "event" : rejected.Field;
                report.Reject(batch.Events[rejected.Index].Line, $"{field}: {rejected.Reason}", field);
            }

            report.Events += result.Accepted;
            report.DuplicateEvents += result.Duplicates;
            report.AcceptedLines += batch.Events.Count - rejectedIndices.Count;
            batch.Events.Clear();
        }
    }

    private sealed class Batch
    {
        public List<RankingLog> Rankings { get; } = [];

        public List<(long Line, EventInput? Event)> Events { get; } = [];

        public int Count => Rankings.Count + Events.Count;
    }
}

/// <summary>An event line of a JSONL log: the fields of the events API, read here by the importer's own contract.</summary>
internal sealed record ImportedUser(string? Id, int? Age, string? Gender, string? Segment);

/// <summary>An event line of a JSONL log (see <see cref="ImportedUser"/>).</summary>
internal sealed record ImportedEvent(string? EventId, string? ItemId, string? Type, string? UserId, string? RequestId, DateTimeOffset? Timestamp);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(ImportedEvent))]
[System.Text.Json.Serialization.JsonSerializable(typeof(ImportedUser))]
internal sealed partial class ImportJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
