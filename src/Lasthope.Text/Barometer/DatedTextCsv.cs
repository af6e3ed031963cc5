using System.Globalization;
using nietras.SeparatedValues;

namespace Lasthope.Text.Barometer;

/// <summary>How <see cref="DatedTextCsv"/> reads a file.</summary>
public sealed record DatedTextCsvOptions
{
    /// <summary>The text column's name, as in the header (exact, case-sensitive).</summary>
    public required string TextColumn { get; init; }

    /// <summary>The date column's name, as in the header (exact, case-sensitive).</summary>
    public required string DateColumn { get; init; }

    /// <summary>
    /// The accepted date formats (.NET custom formats, invariant culture), tried in order. Default: ISO yyyy-MM-dd, then
    /// yyyy/M/d and yyyy-M-d (one- or two-digit month and day, as the CFPB writes 2019/9/24). Day-first or month-first
    /// formats (d/M/yyyy, M/d/yyyy) are ambiguous and not in the default: name the one the file uses. Whatever the
    /// formats, a field whose first 10 characters are an ISO date followed by 'T' or ' ' (an ISO 8601 date-time) counts
    /// on that calendar day as written, without converting its offset.
    /// </summary>
    public IReadOnlyList<string> DateFormats { get; init; } = ["yyyy-MM-dd", "yyyy/M/d", "yyyy-M-d"];

    /// <summary>The field separator. Default: a comma.</summary>
    public char Separator { get; init; } = ',';

    /// <summary>A longer text is cut to this many characters (default 10,000; never inside a surrogate pair) and counted in <see cref="DatedTexts.Truncated"/>.</summary>
    public int MaxTextLength { get; init; } = 10_000;

    /// <summary>More data rows than this (default 1,000,000) is an error, not a silent cut.</summary>
    public int MaxRows { get; init; } = 1_000_000;
}

/// <summary>A text and its date, with the file line its row starts on.</summary>
public readonly record struct DatedText(int Line, DateOnly Date, string Text);

/// <summary>The texts of a file, and what was left out or cut.</summary>
/// <param name="Texts">Rows with a non-blank text, in file order.</param>
/// <param name="Rows">Data rows read (the header excluded).</param>
/// <param name="SkippedEmpty">Rows whose text is empty or blank: left out, and their date is not parsed.</param>
/// <param name="Truncated">Texts cut to <see cref="DatedTextCsvOptions.MaxTextLength"/>.</param>
public sealed record DatedTexts(IReadOnlyList<DatedText> Texts, int Rows, int SkippedEmpty, int Truncated)
{
    /// <summary>The dates of <see cref="Texts"/>, in order.</summary>
    public DateOnly[] Dates() => [.. Texts.Select(t => t.Date)];
}

/// <summary>
/// Reads dated texts from a CSV with a header (RFC 4180 through Sep: quoted fields may hold separators, quotes and
/// line breaks). A row with a blank text is skipped; a row with a text must have a date in one of
/// <see cref="DatedTextCsvOptions.DateFormats"/>. Every problem is a <see cref="BarometerInputException"/> naming its
/// line (of the file, 1-based, the header is line 1; a row that spans lines is named by its first) and column.
/// </summary>
public static class DatedTextCsv
{
    /// <summary>Reads <paramref name="path"/> (UTF-8, a BOM allowed).</summary>
    public static DatedTexts Read(string path, DatedTextCsvOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        using var reader = new StreamReader(path, detectEncodingFromByteOrderMarks: true);
        return Read(reader, options);
    }

    /// <summary>Reads CSV text from <paramref name="reader"/>.</summary>
    public static DatedTexts Read(TextReader reader, DatedTextCsvOptions options)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.TextColumn);
        ArgumentException.ThrowIfNullOrEmpty(options.DateColumn);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxTextLength, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxRows, 1);
        if (options.DateFormats.Count == 0)
        {
            throw new ArgumentException("At least one date format is needed.", nameof(options));
        }

        var formats = options.DateFormats.ToArray();
        using var csv = Sep.New(options.Separator).Reader(o => o with { HasHeader = true, Unescape = true, DisableColCountCheck = true }).From(reader);
        var names = csv.Header.ColNames;
        if (names.Count == 0 || (names.Count == 1 && names[0].Length == 0))
        {
            throw new BarometerInputException("The file is empty: it has no header.", 1, null);
        }

        var textIndex = Column(names, options.TextColumn, "text");
        var dateIndex = Column(names, options.DateColumn, "date");
        var texts = new List<DatedText>();
        int rows = 0, skipped = 0, truncated = 0;
        foreach (var row in csv)
        {
            var line = row.LineNumberFrom;
            if (row.ColCount != names.Count)
            {
                throw new BarometerInputException($"Line {line} has {row.ColCount} fields, the header {names.Count}.", line, null);
            }

            if (++rows > options.MaxRows)
            {
                throw new BarometerInputException($"The file has more than {options.MaxRows:N0} rows (line {line}).", line, null);
            }

            var text = row[textIndex].Span;
            if (text.IsWhiteSpace())
            {
                skipped++;
                continue;
            }

            var field = row[dateIndex].Span.Trim();
            if (!TryParseDate(field, formats, out var date))
            {
                throw new BarometerInputException(
                    $"Line {line}, column '{options.DateColumn}': '{Shorten(field)}' is not a date in the formats {string.Join(", ", formats)}.", line, options.DateColumn);
            }

            if (text.Length > options.MaxTextLength)
            {
                var cut = options.MaxTextLength;
                cut -= char.IsHighSurrogate(text[cut - 1]) ? 1 : 0;
                text = text[..cut];
                truncated++;
            }

            texts.Add(new DatedText(line, date, text.ToString()));
        }

        return new DatedTexts(texts, rows, skipped, truncated);
    }

    /// <summary>Parses a date in one of <paramref name="formats"/> (invariant culture), or the date of an ISO 8601 date-time as written.</summary>
    public static bool TryParseDate(ReadOnlySpan<char> field, IReadOnlyList<string> formats, out DateOnly date)
    {
        ArgumentNullException.ThrowIfNull(formats);
        foreach (var format in formats)
        {
            if (DateOnly.TryParseExact(field, format, CultureInfo.InvariantCulture, DateTimeStyles.None, out date))
            {
                return true;
            }
        }

        if (field.Length > 10 && field[10] is 'T' or ' '
            && DateOnly.TryParseExact(field[..10], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date)
            && DateTimeOffset.TryParse(field, CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
        {
            return true;
        }

        date = default;
        return false;
    }

    private static int Column(IReadOnlyList<string> names, string name, string what)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        const int Shown = 30;
        var listed = string.Join(", ", names.Take(Shown).Select(n => $"'{n}'")) + (names.Count > Shown ? $", ... ({names.Count} in all)" : "");
        throw new BarometerInputException($"The {what} column '{name}' is not in the header (line 1: {listed}).", 1, name);
    }

    private static string Shorten(ReadOnlySpan<char> field) => field.Length <= 40 ? field.ToString() : string.Concat(field[..40], "...");
}
