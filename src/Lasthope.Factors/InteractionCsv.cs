using System.Globalization;

namespace Lasthope.Factors;

/// <summary>Whether the first line of a CSV is a header.</summary>
public enum CsvHeader
{
    /// <summary>
    /// A header when its first field names a user (contains "user" or "client", any case), its second an item ("item",
    /// "keyword" or "vroot"), or its weight field is not a number.
    /// </summary>
    Auto,

    /// <summary>The first line is a header.</summary>
    Present,

    /// <summary>Every line is data.</summary>
    Absent,
}

/// <summary>
/// Reads interactions from CSV: <c>user,item[,weight[,timestamp]]</c>, one event per line. Fields may be quoted with
/// double quotes (RFC 4180, "" for a quote inside). A missing or empty weight is 1. A timestamp is an integer in any
/// monotonic unit (Unix seconds or milliseconds) or an ISO 8601 date-time (read as Unix milliseconds); use one kind
/// per file. Blank lines are skipped. Errors name the line.
/// </summary>
public static class InteractionCsv
{
    private static readonly string[] UserWords = ["user", "client"];
    private static readonly string[] ItemWords = ["item", "keyword", "vroot"];

    /// <summary>Reads a file into a new log.</summary>
    /// <exception cref="FormatException">A line is malformed; the message names it.</exception>
    public static InteractionLog ReadFile(string path, CsvHeader header = CsvHeader.Auto)
    {
        var builder = new InteractionLogBuilder();
        using var reader = new StreamReader(path);
        Read(reader, builder, header);
        return builder.Build();
    }

    /// <summary>Reads every line of <paramref name="reader"/> into <paramref name="builder"/>; returns the events read.</summary>
    /// <exception cref="FormatException">A line is malformed; the message names it.</exception>
    public static int Read(TextReader reader, InteractionLogBuilder builder, CsvHeader header = CsvHeader.Auto)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(builder);
        var fields = new List<string>(4);
        var lineNumber = 0;
        var events = 0;
        var firstLine = true;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            Split(line, fields, lineNumber);
            if (firstLine)
            {
                firstLine = false;
                if (IsHeader(fields, header))
                {
                    continue;
                }
            }

            if (fields.Count is < 2 or > 4)
            {
                throw new FormatException($"Line {lineNumber}: expected user,item[,weight[,timestamp]], found {fields.Count} fields.");
            }

            if (fields[0].Length == 0 || fields[1].Length == 0)
            {
                throw new FormatException($"Line {lineNumber}: the user and the item must not be empty.");
            }

            var weight = 1f;
            if (fields.Count >= 3 && fields[2].Length > 0 &&
                (!float.TryParse(fields[2], NumberStyles.Float, CultureInfo.InvariantCulture, out weight) || !float.IsFinite(weight)))
            {
                throw new FormatException($"Line {lineNumber}: weight '{fields[2]}' is not a finite number.");
            }

            long? timestamp = null;
            if (fields.Count == 4 && fields[3].Length > 0)
            {
                timestamp = ParseTimestamp(fields[3], lineNumber);
            }

            builder.Add(fields[0], fields[1], weight, timestamp);
            events++;
        }

        return events;
    }

    private static bool IsHeader(List<string> fields, CsvHeader header)
    {
        switch (header)
        {
            case CsvHeader.Present:
                return true;
            case CsvHeader.Absent:
                return false;
        }

        static bool Names(string field, string[] words) =>
            words.Any(w => field.Contains(w, StringComparison.OrdinalIgnoreCase));

        if ((fields.Count > 0 && Names(fields[0], UserWords)) || (fields.Count > 1 && Names(fields[1], ItemWords)))
        {
            return true;
        }

        return fields.Count >= 3 && fields[2].Length > 0 && !float.TryParse(fields[2], NumberStyles.Float, CultureInfo.InvariantCulture, out _);
    }

    private static long ParseTimestamp(string field, int lineNumber)
    {
        if (long.TryParse(field, NumberStyles.Integer, CultureInfo.InvariantCulture, out var integer))
        {
            return integer;
        }

        if (DateTimeOffset.TryParse(field, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return time.ToUnixTimeMilliseconds();
        }

        throw new FormatException($"Line {lineNumber}: timestamp '{field}' is neither an integer nor an ISO 8601 date-time.");
    }

    private static void Split(string line, List<string> fields, int lineNumber)
    {
        fields.Clear();
        var i = 0;
        while (true)
        {
            if (i < line.Length && line[i] == '"')
            {
                var value = new System.Text.StringBuilder();
                i++;
                while (true)
                {
                    if (i >= line.Length)
                    {
                        throw new FormatException($"Line {lineNumber}: unterminated quoted field.");
                    }

                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"')
                        {
                            value.Append('"');
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    value.Append(line[i++]);
                }

                fields.Add(value.ToString());
                if (i < line.Length && line[i] != ',')
                {
                    throw new FormatException($"Line {lineNumber}: unexpected '{line[i]}' after a quoted field.");
                }
            }
            else
            {
                var end = line.IndexOf(',', i);
                if (end < 0)
                {
                    end = line.Length;
                }

                fields.Add(line[i..end].Trim());
                i = end;
            }

            if (i >= line.Length)
            {
                return;
            }

            i++; // the comma
        }
    }
}
