using System.Globalization;
using nietras.SeparatedValues;

namespace Lasthope.Trees.Data;

/// <summary>
/// Rows read from a LibSVM or CSV file into a dense row-major matrix, with labels and, for ranking, query groups and
/// positions. The shape <see cref="TreeModel.Score(ReadOnlySpan{double}, Span{double}, CancellationToken)"/> and the
/// trainer take.
/// </summary>
public sealed class DenseDataset
{
    /// <summary>Wraps arrays the caller filled; <paramref name="features"/> is row-major, <paramref name="rows"/> by <paramref name="columns"/>.</summary>
    public DenseDataset(double[] features, int rows, int columns, float[] labels, int[]? groups = null, int[]? positions = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if ((long)rows * columns != features.Length || labels.Length != rows)
        {
            throw new ArgumentException($"{rows} rows of {columns} columns do not match {features.Length} values and {labels.Length} labels.");
        }

        Features = features;
        Rows = rows;
        Columns = columns;
        Labels = labels;
        Groups = groups ?? [];
        Positions = positions ?? [];
    }

    /// <summary>Row-major values; absent LibSVM entries are 0 (as LightGBM reads them), empty CSV cells NaN.</summary>
    public double[] Features { get; }

    /// <summary>Number of rows (documents).</summary>
    public int Rows { get; }

    /// <summary>Number of features per row.</summary>
    public int Columns { get; }

    /// <summary>One label per row (the LibSVM label; 0 for CSV).</summary>
    public float[] Labels { get; }

    /// <summary>Query group sizes (from the <c>.query</c> file beside the data), or empty.</summary>
    public int[] Groups { get; }

    /// <summary>Position ids (from the <c>.position</c> file beside the data), or empty.</summary>
    public int[] Positions { get; }

    /// <summary>Row i's features.</summary>
    public ReadOnlySpan<double> Row(int i) => Features.AsSpan(i * Columns, Columns);

    /// <summary>The offset of each group's first row, and the end (Groups.Length + 1 values).</summary>
    public int[] GroupOffsets()
    {
        var offsets = new int[Groups.Length + 1];
        for (var i = 0; i < Groups.Length; i++)
        {
            offsets[i + 1] = offsets[i] + Groups[i];
        }

        return offsets;
    }

    /// <summary>
    /// Reads LibSVM (<c>label index:value ...</c>, zero-based indices used as given, as LightGBM reads them; a
    /// <c>qid:</c> token is ignored) and, when present beside the file, LightGBM's <c>FILE.query</c> group sizes and
    /// <c>FILE.position</c> positions.
    /// </summary>
    /// <param name="path">The data file.</param>
    /// <param name="columns">The number of features; null for the largest index + 1. Indices at or beyond it are dropped.</param>
    public static DenseDataset ReadLibSvm(string path, int? columns = null)
    {
        var labels = new List<float>();
        var entries = new List<(int Row, int Index, double Value)>();
        var maxIndex = -1;
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            var span = line.AsSpan().Trim();
            if (span.IsEmpty || span[0] == '#')
            {
                continue;
            }

            var row = labels.Count;
            var first = true;
            foreach (var range in span.Split(' '))
            {
                var token = span[range];
                if (token.IsEmpty)
                {
                    continue;
                }

                if (first)
                {
                    labels.Add(float.Parse(token, NumberStyles.Float, CultureInfo.InvariantCulture));
                    first = false;
                    continue;
                }

                var colon = token.IndexOf(':');
                if (colon <= 0)
                {
                    throw new FormatException($"{path}:{lineNumber}: '{token}' is not index:value.");
                }

                if (token[..colon].SequenceEqual("qid"))
                {
                    continue;
                }

                if (!int.TryParse(token[..colon], NumberStyles.Integer, CultureInfo.InvariantCulture, out var index) || index < 0
                    || !double.TryParse(token[(colon + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                {
                    throw new FormatException($"{path}:{lineNumber}: '{token}' is not index:value.");
                }

                maxIndex = Math.Max(maxIndex, index);
                entries.Add((row, index, value));
            }
        }

        var width = columns ?? (maxIndex + 1);
        if (width <= 0)
        {
            throw new FormatException($"{path} has no features.");
        }

        var features = new double[(long)labels.Count * width];
        foreach (var (row, index, value) in entries)
        {
            if (index < width)
            {
                features[((long)row * width) + index] = value;
            }
        }

        return new DenseDataset(features, labels.Count, width, [.. labels], ReadSideFile(path + ".query"), ReadPositions(path + ".position"));
    }

    /// <summary>
    /// Reads CSV of feature values only, one row per record (RFC 4180 quoting, read by Sep). A first line that is not numeric is a header: when it names
    /// every one of <paramref name="featureNames"/>, columns are matched by name, otherwise by position. Empty cells and
    /// NA/NaN are missing (NaN). Labels are zero.
    /// </summary>
    public static DenseDataset ReadCsv(string path, IReadOnlyList<string> featureNames)
    {
        ArgumentNullException.ThrowIfNull(featureNames);
        var columns = featureNames.Count;
        var values = new List<double>();
        int[]? map = null;
        var rows = 0;
        var nextLine = 1;
        using var csv = Sep.New(',').Reader(o => o with { HasHeader = false, Unescape = true, Trim = SepTrim.All, DisableColCountCheck = true }).FromFile(path);
        foreach (var row in csv)
        {
            var lineNumber = nextLine;
            nextLine += 1 + row.Span.Count('\n');
            var cells = new string[row.ColCount];
            for (var c = 0; c < cells.Length; c++)
            {
                cells[c] = row[c].ToString();
            }

            if (cells.Length == 1 && cells[0].Length == 0)
            {
                continue;
            }

            if (lineNumber == 1 && !IsNumericRow(cells))
            {
                var byName = cells.Select((c, i) => (Name: c, Index: i)).GroupBy(c => c.Name).ToDictionary(g => g.Key, g => g.First().Index);
                if (featureNames.All(byName.ContainsKey))
                {
                    map = [.. featureNames.Select(n => byName[n])];
                }

                continue;
            }

            for (var f = 0; f < columns; f++)
            {
                var c = map is null ? f : map[f];
                values.Add(c < cells.Length ? ParseCell(cells[c], path, lineNumber) : double.NaN);
            }

            rows++;
        }

        return new DenseDataset([.. values], rows, columns, new float[rows]);
    }

    private static bool IsNumericRow(string[] cells) =>
        cells.All(c => c.Trim().Length == 0 || double.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out _) || IsMissing(c));

    private static bool IsMissing(string cell) => cell.Trim() is "" or "NA" or "NaN" or "nan" or "null";

    private static double ParseCell(string cell, string path, int line)
    {
        if (IsMissing(cell))
        {
            return double.NaN;
        }

        return double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"{path}:{line}: '{cell}' is not a number.");
    }

    /// <summary>
    /// LightGBM's position file holds one id per row, any string (<c>pos_1</c>, <c>3</c>); like LightGBM, each distinct
    /// id becomes one position, numbered in order of first appearance.
    /// </summary>
    private static int[]? ReadPositions(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        return [.. File.ReadLines(path).Where(l => !string.IsNullOrWhiteSpace(l)).Select(l =>
        {
            var key = l.Trim();
            if (!ids.TryGetValue(key, out var id))
            {
                id = ids[key] = ids.Count;
            }

            return id;
        })];
    }

    private static int[]? ReadSideFile(string path) =>
        File.Exists(path)
            ? [.. File.ReadLines(path).Where(l => !string.IsNullOrWhiteSpace(l)).Select(l => int.Parse(l.Trim(), CultureInfo.InvariantCulture))]
            : null;
}
