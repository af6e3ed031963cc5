using System.Globalization;
using nietras.SeparatedValues;

namespace Lasthope.Text;

/// <summary>How to read a labelled text table for <see cref="TextTraining"/>.</summary>
public sealed record TextReadOptions
{
    /// <summary>The text's column.</summary>
    public required string Text { get; init; }

    /// <summary>The label's column: a class name (classify) or a number (regress).</summary>
    public required string Label { get; init; }

    public TextTask Task { get; init; } = TextTask.Classify;

    /// <summary>Rows kept at most: the first <c>MaxRows</c> usable rows of the file are read, and the notes say so.</summary>
    public int MaxRows { get; init; } = 1_000_000;

    /// <summary>A longer text is cut to this many UTF-16 code units (the encoder reads far fewer tokens anyway); the notes count them.</summary>
    public int MaxTextLength { get; init; } = 2_000;

    /// <summary>Classify: each raw label replaced by its mapped class (for example an issue by its broad group), or null.</summary>
    public IReadOnlyDictionary<string, string>? LabelMap { get; init; }

    /// <summary>With a <see cref="LabelMap"/>: the class of a label the map does not hold, or null to refuse such a row.</summary>
    public string? UnmappedLabel { get; init; }
}

/// <summary>Why a text table cannot be used: the message names the file, and the line and column where it can. The CLI exits 2.</summary>
public sealed class TextDataException : Exception
{
    public TextDataException(string message)
        : base(message)
    {
    }

    public TextDataException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A labelled text table: one text per row with its class name (classify) or value (regress). Rows with an empty text
/// or an empty label are skipped and counted, a text longer than <see cref="TextReadOptions.MaxTextLength"/> is cut,
/// and <see cref="Notes"/> says both, so that what was trained on is never a surprise. CSV fields may hold quoted
/// newlines (RFC 4180; the CFPB narratives do).
/// </summary>
public sealed class TextData
{
    private TextData(string source, string[] texts, string[] labels, double[] values, IReadOnlyList<string> notes)
    {
        Source = source;
        Texts = texts;
        Labels = labels;
        Values = values;
        Notes = notes;
    }

    /// <summary>The file's name (or a description of where the rows came from).</summary>
    public string Source { get; }

    public int Rows => Texts.Length;

    public string[] Texts { get; }

    /// <summary>Classify: each row's class name (after the label map). Regress: the label cell as written.</summary>
    public string[] Labels { get; }

    /// <summary>Regress: each row's value; classify: empty.</summary>
    public double[] Values { get; }

    /// <summary>What reading did beside taking rows as they are (skipped, cut, capped, mapped).</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>Rows from memory (tests, and callers with their own reader); texts are cut as a file's would be.</summary>
    public static TextData FromRows(string source, IReadOnlyList<string> texts, IReadOnlyList<string> labels, TextTask task = TextTask.Classify, int maxTextLength = 2_000)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(labels);
        if (texts.Count != labels.Count)
        {
            throw new ArgumentException($"{texts.Count} texts and {labels.Count} labels.", nameof(labels));
        }

        var values = task == TextTask.Regress ? new double[labels.Count] : [];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = ParseValue(labels[i]) ?? throw new TextDataException($"{source}: row {i + 1}: the label '{labels[i]}' is not a finite number.");
        }

        return new TextData(source, [.. texts.Select(t => Cut(t, maxTextLength))], [.. labels], values, []);
    }

    /// <summary>Reads <paramref name="path"/> (CSV with a header row; the separator is detected).</summary>
    /// <exception cref="TextDataException">The file is missing a column, has a ragged row, a non-numeric label to regress, or no usable row.</exception>
    public static TextData Read(string path, TextReadOptions options)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxRows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxTextLength, 1);
        var file = Path.GetFileName(path);
        var texts = new List<string>();
        var labels = new List<string>();
        var values = new List<double>();
        int emptyText = 0, emptyLabel = 0, cut = 0, unmapped = 0;
        var capped = false;
        try
        {
            using var reader = Sep.Reader(o => o with { HasHeader = true, Unescape = true }).FromFile(path);
            var names = reader.Header.ColNames;
            int Index(string name, string what) => names.ToList().IndexOf(name) is var i and >= 0
                ? i : throw new TextDataException($"{file}: the {what} column '{name}' is not in the file (its columns: {string.Join(", ", names)}).");
            var textColumn = Index(options.Text, "text");
            var labelColumn = Index(options.Label, "label");
            foreach (var row in reader)
            {
                if (texts.Count >= options.MaxRows)
                {
                    capped = true;
                    break;
                }

                if (row.ColCount != names.Count)
                {
                    throw new TextDataException($"{file}: line {row.LineNumberFrom}: {row.ColCount} columns where the header has {names.Count}.");
                }

                var text = row[textColumn].ToString().Trim();
                var label = row[labelColumn].ToString().Trim();
                if (text.Length == 0)
                {
                    emptyText++;
                    continue;
                }

                if (label.Length == 0)
                {
                    emptyLabel++;
                    continue;
                }

                if (options.Task == TextTask.Regress)
                {
                    values.Add(ParseValue(label) ?? throw new TextDataException($"{file}: line {row.LineNumberFrom}, column '{options.Label}': '{Shorten(label)}' is not a finite number (a regression needs one)."));
                }
                else if (options.LabelMap is { } map)
                {
                    if (map.TryGetValue(label, out var mapped))
                    {
                        label = mapped;
                    }
                    else
                    {
                        label = options.UnmappedLabel ?? throw new TextDataException($"{file}: line {row.LineNumberFrom}, column '{options.Label}': the label map has no entry for '{Shorten(label)}'.");
                        unmapped++;
                    }
                }

                if (text.Length > options.MaxTextLength)
                {
                    cut++;
                }

                texts.Add(Cut(text, options.MaxTextLength));
                labels.Add(label);
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or ArgumentException)
        {
            throw new TextDataException($"{file}: {e.Message}", e);
        }

        if (texts.Count == 0)
        {
            throw new TextDataException($"{file}: no row has both a text in '{options.Text}' and a label in '{options.Label}'.");
        }

        var notes = new List<string>();
        if (emptyText > 0 || emptyLabel > 0)
        {
            notes.Add(Invariant($"{file}: {emptyText:N0} rows without a text and {emptyLabel:N0} without a label were skipped."));
        }

        if (cut > 0)
        {
            notes.Add(Invariant($"{file}: {cut:N0} texts were cut to {options.MaxTextLength:N0} characters."));
        }

        if (capped)
        {
            notes.Add(Invariant($"{file}: only the first {options.MaxRows:N0} usable rows were read (--max-rows)."));
        }

        if (unmapped > 0)
        {
            notes.Add(Invariant($"{file}: {unmapped:N0} labels not in the label map became '{options.UnmappedLabel}'."));
        }

        return new TextData(file, [.. texts], [.. labels], [.. values], notes);
    }

    /// <summary>
    /// A label map file: CSV with a header row and two columns, the label as written and the class it becomes (for
    /// example <c>label,class</c> then <c>0,bearish</c>). A label may appear once.
    /// </summary>
    /// <exception cref="TextDataException">Not two columns, an empty cell, or a label that repeats.</exception>
    public static IReadOnlyDictionary<string, string> ReadLabelMap(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var file = Path.GetFileName(path);
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var reader = Sep.Reader(o => o with { HasHeader = true, Unescape = true }).FromFile(path);
            if (reader.Header.ColNames.Count != 2)
            {
                throw new TextDataException($"{file}: a label map has two columns (the label, its class), not {reader.Header.ColNames.Count}.");
            }

            foreach (var row in reader)
            {
                var from = row[0].ToString().Trim();
                var to = row[1].ToString().Trim();
                if (from.Length == 0 || to.Length == 0)
                {
                    throw new TextDataException($"{file}: line {row.LineNumberFrom}: an empty label or class.");
                }

                if (!map.TryAdd(from, to))
                {
                    throw new TextDataException($"{file}: line {row.LineNumberFrom}: the label '{Shorten(from)}' is mapped twice.");
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or ArgumentException)
        {
            throw new TextDataException($"{file}: {e.Message}", e);
        }

        return map.Count > 0 ? map : throw new TextDataException($"{file}: the label map is empty.");
    }

    /// <summary>The rows at <paramref name="rows"/>, in that order (a split, a subset).</summary>
    public TextData Subset(IReadOnlyList<int> rows, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return new TextData(source ?? Source, [.. rows.Select(i => Texts[i])], [.. rows.Select(i => Labels[i])], Values.Length == 0 ? [] : [.. rows.Select(i => Values[i])], Notes);
    }

    private static double? ParseValue(string cell) =>
        double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v : null;

    private static string Cut(string text, int max)
    {
        if (text.Length <= max)
        {
            return text;
        }

        // Do not split a surrogate pair.
        var end = char.IsHighSurrogate(text[max - 1]) ? max - 1 : max;
        return text[..end];
    }

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "...";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
