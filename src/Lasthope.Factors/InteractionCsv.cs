using System.Globalization;
using nietras.SeparatedValues;

namespace Lasthope.Factors;

/// <summary>Whether the first line of a CSV is a header.</summary>
public enum CsvHeader
{
    /// <summary>A header when its first field names the user column (user, user_id, client, id, ...) or its weight field is not a number.</summary>
    Auto,

    /// <summary>The first line is a header.</summary>
    Present,

    /// <summary>Every line is data.</summary>
    Absent,
}

/// <summary>
/// Reads interactions from CSV (through Sep, so RFC 4180 quoting works, quoted newlines included): <c>user,item[,
/// weight[,timestamp]]</c>, one event per row. A missing or empty weight is 1. A timestamp is an integer in any
/// monotonic unit (Unix seconds or milliseconds) or an ISO 8601 date-time (read as Unix milliseconds); use one kind per
/// file. Blank rows are skipped; fields are trimmed. Errors name the line.
/// </summary>
public static class InteractionCsv
{
    /// <summary>First fields that name the user column, in any case (a header, not a user).</summary>
    private static readonly string[] UserColumns = ["user", "user_id", "userid", "client", "client_id", "clientid", "id"];

    /// <summary>Reads a file into a new log.</summary>
    /// <exception cref="FormatException">A row is malformed; the message names it.</exception>
    public static InteractionLog ReadFile(string path, CsvHeader header = CsvHeader.Auto)
    {
        var builder = new InteractionLogBuilder();
        using var reader = new StreamReader(path);
        Read(reader, builder, header);
        return builder.Build();
    }

    /// <summary>Reads every row of <paramref name="reader"/> into <paramref name="builder"/>; returns the events read.</summary>
    /// <exception cref="FormatException">A row is malformed; the message names its line.</exception>
    public static int Read(TextReader reader, InteractionLogBuilder builder, CsvHeader header = CsvHeader.Auto)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(builder);
        using var csv = Open(reader);
        var events = 0;
        var nextLine = 1;
        var first = true;
        Span<string> fields = new string[4];
        foreach (var row in csv)
        {
            var rowNumber = LineOf(row, ref nextLine);
            if (row.ColCount == 1 && row[0].Span.IsWhiteSpace())
            {
                continue;
            }

            if (row.ColCount is < 2 or > 4)
            {
                throw new FormatException($"Line {rowNumber}: expected user,item[,weight[,timestamp]], found {row.ColCount} fields.");
            }

            for (var c = 0; c < row.ColCount; c++)
            {
                fields[c] = row[c].ToString();
            }

            var count = row.ColCount;
            if (first)
            {
                first = false;
                if (IsHeader(fields[..count], header))
                {
                    continue;
                }
            }

            if (fields[0].Length == 0 || fields[1].Length == 0)
            {
                throw new FormatException($"Line {rowNumber}: the user and the item must not be empty.");
            }

            var weight = 1f;
            if (count >= 3 && fields[2].Length > 0 &&
                (!float.TryParse(fields[2], NumberStyles.Float, CultureInfo.InvariantCulture, out weight) || !float.IsFinite(weight)))
            {
                throw new FormatException($"Line {rowNumber}: weight '{fields[2]}' is not a finite number.");
            }

            long? timestamp = null;
            if (count == 4 && fields[3].Length > 0)
            {
                timestamp = ParseTimestamp(fields[3], rowNumber);
            }

            builder.Add(fields[0], fields[1], weight, timestamp);
            events++;
        }

        return events;
    }

    /// <summary>A reader with no header, RFC 4180 unescaping, trimmed fields and any number of fields per row.</summary>
    internal static SepReader Open(TextReader reader) =>
        Sep.New(',').Reader(o => o with { HasHeader = false, Unescape = true, Trim = SepTrim.All, DisableColCountCheck = true }).From(reader);

    /// <summary>
    /// The 1-based line a row starts on (a quoted field may hold line breaks, which count as lines; <paramref
    /// name="nextLine"/> moves past the row), refusing a row with an unterminated quoted field.
    /// </summary>
    /// <exception cref="FormatException">An odd number of quotes: a field was opened and never closed.</exception>
    internal static int LineOf(SepReader.Row row, ref int nextLine)
    {
        var line = nextLine;
        nextLine += 1 + row.Span.Count('\n');
        return row.Span.Count('"') % 2 == 0 ? line : throw new FormatException($"Line {line}: unterminated quoted field.");
    }

    /// <summary>Whether a first field names the user column (so its row is a header).</summary>
    internal static bool NamesUserColumn(string field) => UserColumns.Contains(field, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// With <see cref="CsvHeader.Auto"/>, the first row is a header when its first field names the user column
    /// (user, user_id, client, id, ...) or its weight field is not a number.
    /// </summary>
    private static bool IsHeader(ReadOnlySpan<string> fields, CsvHeader header) => header switch
    {
        CsvHeader.Present => true,
        CsvHeader.Absent => false,
        _ => NamesUserColumn(fields[0])
            || (fields.Length >= 3 && fields[2].Length > 0 && !float.TryParse(fields[2], NumberStyles.Float, CultureInfo.InvariantCulture, out _)),
    };

    private static long ParseTimestamp(string field, int rowNumber)
    {
        if (long.TryParse(field, NumberStyles.Integer, CultureInfo.InvariantCulture, out var integer))
        {
            return integer;
        }

        if (DateTimeOffset.TryParse(field, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return time.ToUnixTimeMilliseconds();
        }

        throw new FormatException($"Line {rowNumber}: timestamp '{field}' is neither an integer nor an ISO 8601 date-time.");
    }
}
