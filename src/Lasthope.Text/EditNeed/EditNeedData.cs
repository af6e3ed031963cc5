using System.Text;
using System.Text.Json;

namespace Lasthope.Text.EditNeed;

/// <summary>One unit (a paragraph or a sentence) of a revised document: its original text, its edited text and the edit rate.</summary>
/// <param name="DocumentId">The source document (IteraTeR's doc_id): the unit of the grouped split; revisions of one document share it.</param>
/// <param name="Document">The text as it was submitted for one revision (doc_id and revision depth): the unit within which highlights are chosen.</param>
/// <param name="Index">The unit's position in its document, from 0.</param>
/// <param name="Count">The number of units in its document.</param>
/// <param name="Original">The unit as written.</param>
/// <param name="Edited">The unit after the human edits whose start falls in it.</param>
/// <param name="Rate">The word-level edit rate (<see cref="EditRate.Of"/>).</param>
public sealed record EditNeedExample(string DocumentId, string Document, int Index, int Count, string Original, string Edited, double Rate);

/// <summary>A document as submitted: its text and its units' examples.</summary>
public sealed record EditNeedDocument(string DocumentId, string Key, string Text, IReadOnlyList<EditNeedExample> Units);

/// <summary>The revision data could not be read: the message names the file and line.</summary>
public sealed class EditNeedDataException : Exception
{
    public EditNeedDataException()
    {
    }

    public EditNeedDataException(string message)
        : base(message)
    {
    }

    public EditNeedDataException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Reads IteraTeR's document-level human revisions (<c>human_doc_level.{train,dev,test}.json</c>, JSON Lines: doc_id,
/// revision_depth, before_revision, after_revision and edit_actions with character positions in before_revision) into
/// documents of units with their edited text.
/// <para>
/// A document is split into units by <see cref="EditNeedText.Units"/> (the splitter serving uses). Each edit action
/// belongs to the unit its start position falls in; a boundary that falls strictly inside an edited span is removed
/// (the two units become one), so no edit is cut. A unit's edited text is its original span with its edits applied.
/// The edits must reproduce after_revision (up to whitespace) when applied to before_revision, or the record is refused.
/// </para>
/// <para>
/// The sentence-level files (<c>human_sent_level.*</c>) are not read: they hold one row per edit intent and only
/// edited sentences, so they cannot say which sentences needed no edit, which is what a highlight has to learn.
/// The three official splits are pooled; evaluation makes its own split grouped by doc_id.
/// </para>
/// </summary>
public static class EditNeedData
{
    /// <summary>The largest file read.</summary>
    public const long MaxFileBytes = 64L << 20;

    /// <summary>The most documents read.</summary>
    public const int MaxDocuments = 100_000;

    /// <summary>The longest before_revision or after_revision accepted, in characters.</summary>
    public const int MaxDocumentChars = 100_000;

    /// <summary>The most edit actions a document may have.</summary>
    public const int MaxEdits = 10_000;

    /// <summary>The document-level files in the order they are read.</summary>
    public static readonly IReadOnlyList<string> Files = ["human_doc_level.train.json", "human_doc_level.dev.json", "human_doc_level.test.json"];

    /// <summary>Reads every document-level file present in <paramref name="directory"/> (at least one must be).</summary>
    /// <exception cref="EditNeedDataException">No file, or a file is too large or malformed.</exception>
    public static IReadOnlyList<EditNeedDocument> Load(string directory, EditNeedLevel level)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var paths = Files.Select(f => Path.Combine(directory, f)).Where(File.Exists).ToList();
        if (paths.Count == 0)
        {
            throw new EditNeedDataException($"{directory} holds none of {string.Join(", ", Files)} (IteraTeR's document-level human revisions).");
        }

        var documents = new List<EditNeedDocument>();
        foreach (var path in paths)
        {
            documents.AddRange(ReadFile(path, level, MaxDocuments - documents.Count));
        }

        return documents;
    }

    /// <summary>Reads one JSON Lines file of document-level revisions.</summary>
    /// <param name="path">The file.</param>
    /// <param name="level">How to split each document.</param>
    /// <param name="maxDocuments">The most documents to accept from this file.</param>
    /// <exception cref="EditNeedDataException">The file is too large, has too many documents, or a line is malformed.</exception>
    public static IReadOnlyList<EditNeedDocument> ReadFile(string path, EditNeedLevel level, int maxDocuments = MaxDocuments)
    {
        ArgumentNullException.ThrowIfNull(path);
        var name = Path.GetFileName(path);
        long length;
        try
        {
            length = new FileInfo(path).Length;
        }
        catch (IOException e)
        {
            throw new EditNeedDataException($"{name}: {e.Message}", e);
        }

        if (length > MaxFileBytes)
        {
            throw new EditNeedDataException($"{name}: {length:N0} bytes, more than the {MaxFileBytes:N0} read.");
        }

        var documents = new List<EditNeedDocument>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path, Encoding.UTF8))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            if (documents.Count == maxDocuments)
            {
                throw new EditNeedDataException($"{name}: more than {maxDocuments:N0} documents.");
            }

            try
            {
                documents.Add(Parse(line, level));
            }
            catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
            {
                throw new EditNeedDataException($"{name}:{lineNumber}: {e.Message}", e);
            }
        }

        return documents;
    }

    private static EditNeedDocument Parse(string line, EditNeedLevel level)
    {
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("a line is not a JSON object.");
        }

        var id = root.GetProperty("doc_id").ValueKind == JsonValueKind.Number ? root.GetProperty("doc_id").GetRawText() : Required(root, "doc_id");
        var depth = root.TryGetProperty("revision_depth", out var d) && d.ValueKind == JsonValueKind.Number ? d.GetInt32() : 0;
        var before = Required(root, "before_revision");
        var after = Required(root, "after_revision");
        if (before.Length > MaxDocumentChars || after.Length > MaxDocumentChars)
        {
            throw new FormatException($"document {id} is longer than {MaxDocumentChars:N0} characters.");
        }

        var actions = root.GetProperty("edit_actions");
        if (actions.ValueKind != JsonValueKind.Array || actions.GetArrayLength() > MaxEdits)
        {
            throw new FormatException($"document {id}: edit_actions is not an array of at most {MaxEdits:N0} edits.");
        }

        var edits = new List<(int Start, int End, string After)>();
        foreach (var a in actions.EnumerateArray())
        {
            var start = a.GetProperty("start_char_pos").GetInt32();
            var end = a.GetProperty("end_char_pos").GetInt32();
            var replacement = a.TryGetProperty("after", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : "";
            if (start < 0 || end < start || end > before.Length)
            {
                throw new FormatException($"document {id}: an edit spans [{start}, {end}) outside the {before.Length} characters.");
            }

            if (a.TryGetProperty("before", out var b) && b.ValueKind == JsonValueKind.String && !before.AsSpan(start, end - start).SequenceEqual(b.GetString()))
            {
                throw new FormatException($"document {id}: the edit at {start} does not match the text it replaces.");
            }

            edits.Add((start, end, replacement));
        }

        edits.Sort((x, y) => x.Start != y.Start ? x.Start.CompareTo(y.Start) : x.End.CompareTo(y.End));
        for (var i = 1; i < edits.Count; i++)
        {
            if (edits[i].Start < edits[i - 1].End)
            {
                throw new FormatException($"document {id}: edits at {edits[i - 1].Start} and {edits[i].Start} overlap.");
            }
        }

        if (!SameUpToWhitespace(Apply(before, 0, before.Length, edits), after))
        {
            throw new FormatException($"document {id}: the edit actions do not turn before_revision into after_revision.");
        }

        // Unit boundaries, without any that falls strictly inside an edited span.
        var spans = EditNeedText.Units(before, level);
        var starts = spans.Select(s => s.Start).Where(s => !edits.Any(e => e.Start < s && s < e.End)).ToList();
        var key = $"{id}@{depth}";
        var units = new List<EditNeedExample>(starts.Count);
        for (var u = 0; u < starts.Count; u++)
        {
            var from = starts[u];
            var to = u + 1 < starts.Count ? starts[u + 1] : before.Length;
            var own = edits.Where(e => e.Start >= from && (e.Start < to || (u + 1 == starts.Count && e.Start == to))).ToList();
            var original = before[from..to].Trim();
            var edited = Apply(before, from, to, own).Trim();
            if (EditRate.Tokenize(original).Length == 0)
            {
                continue;
            }

            units.Add(new EditNeedExample(id, key, units.Count, 0, original, edited, EditRate.Of(original, edited)));
        }

        var count = units.Count;
        return new EditNeedDocument(id, key, before, [.. units.Select(x => x with { Count = count })]);
    }

    private static string Required(JsonElement root, string property)
    {
        var value = root.GetProperty(property);
        return value.ValueKind == JsonValueKind.String ? value.GetString()! : throw new FormatException($"{property} is not a string.");
    }

    /// <summary>text[from..to) with the edits (sorted, inside the range, non-overlapping) applied.</summary>
    private static string Apply(string text, int from, int to, List<(int Start, int End, string After)> edits)
    {
        var builder = new StringBuilder(to - from + 16);
        var position = from;
        foreach (var (start, end, replacement) in edits)
        {
            builder.Append(text, position, start - position).Append(replacement);
            position = Math.Max(end, position);
        }

        return builder.Append(text, position, to - position).ToString();
    }

    private static bool SameUpToWhitespace(string a, string b) =>
        a.Split(default(char[]), StringSplitOptions.RemoveEmptyEntries).SequenceEqual(b.Split(default(char[]), StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
}
