using System.Globalization;
using Lasthope.Server.Predict;
using nietras.SeparatedValues;

namespace Lasthope.Training.Tabular;

/// <summary>How to read a table for <see cref="TabularTraining"/>.</summary>
public sealed record TabularReadOptions
{
    /// <summary>The label's column.</summary>
    public required string Label { get; init; }

    /// <summary>Names of the columns of a file without a header row; null when its first row is the header.</summary>
    public IReadOnlyList<string>? ColumnNames { get; init; }

    /// <summary>Columns to treat as categories even when every value is a number (codes such as 1, 2, 3).</summary>
    public IReadOnlyCollection<string> Categorical { get; init; } = [];

    /// <summary>Columns not to use (ids, leaks).</summary>
    public IReadOnlyCollection<string> Ignore { get; init; } = [];

    /// <summary>A column of per-row training weights, or null.</summary>
    public string? Weight { get; init; }

    /// <summary>A categorical column with more distinct values than this is refused (it is an id, or needs encoding first).</summary>
    public int MaxCategories { get; init; } = 1_000;

    /// <summary>Rows read at most; a larger file is refused rather than read partly.</summary>
    public int MaxRows { get; init; } = 10_000_000;
}

/// <summary>Why a table cannot be used; the CLI shows it and exits with 2.</summary>
public sealed class TabularDataException(string message) : Exception(message);

/// <summary>
/// A CSV table read for training: the feature columns encoded as the model takes them (numbers as they are, a
/// category as its code, missing as NaN), the label's raw values, and the per-row weights. A column is categorical
/// when asked or when any of its values is not a number; its categories are ordered (numerically when they are all
/// numbers) so that codes do not depend on row order. Empty cells, <c>NA</c> and <c>?</c> are missing.
/// </summary>
public sealed class TabularData
{
    private TabularData(IReadOnlyList<PredictorFeature> features, double[] values, string[] labels, float[] weights)
    {
        Features = features;
        Values = values;
        Labels = labels;
        Weights = weights;
    }

    /// <summary>The feature columns, in the model's order, with a categorical column's categories.</summary>
    public IReadOnlyList<PredictorFeature> Features { get; }

    public int Rows => Labels.Length;

    public int Columns => Features.Count;

    /// <summary>Row-major encoded features.</summary>
    public double[] Values { get; }

    /// <summary>The label cell of each row, as written.</summary>
    public string[] Labels { get; }

    /// <summary>Per-row weights; empty when the table has no weight column.</summary>
    public float[] Weights { get; }

    public static bool IsMissing(string cell) => cell.Length == 0 || cell is "NA" or "?" or "NaN" or "null";

    public static TabularData Read(string path, TabularReadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var reader = Open(path, options.ColumnNames is null);
        var names = options.ColumnNames?.ToArray() ?? [.. reader.Header.ColNames];
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Length)
        {
            throw new TabularDataException("A column name repeats.");
        }

        int Index(string name, string what) => Array.IndexOf(names, name) is var i and >= 0
            ? i : throw new TabularDataException($"The {what} column '{name}' is not in the file (its columns: {string.Join(", ", names)}).");
        var label = Index(options.Label, "label");
        var weight = options.Weight is null ? -1 : Index(options.Weight, "weight");
        foreach (var c in options.Categorical.Concat(options.Ignore))
        {
            Index(c, "named");
        }

        var used = Enumerable.Range(0, names.Length).Where(i => i != label && i != weight && !options.Ignore.Contains(names[i])).ToArray();
        if (used.Length == 0)
        {
            throw new TabularDataException("No feature column is left.");
        }

        foreach (var name in used.Select(i => names[i]))
        {
            if (FeatureNameProblem(name) is { } problem)
            {
                throw new TabularDataException($"The column name '{name}' {problem}, which a LightGBM model cannot hold as a feature's name: rename the column, or leave it out with --ignore.");
            }
        }

        var cells = used.Select(_ => new List<string>()).ToArray();
        var labels = new List<string>();
        var weights = new List<float>();
        var next = options.ColumnNames is null ? 2 : 1; // the line where the next row starts
        try
        {
            foreach (var row in reader)
            {
                var line = row.LineNumberFrom; // the file's line (1-based) where the row starts, the header's counted
                next = row.LineNumberToExcl;
                if (row.ColCount != names.Length)
                {
                    throw new TabularDataException($"{path}: line {line} has {row.ColCount} fields, but the {(options.ColumnNames is null ? "header has" : "column names are")} {names.Length}.");
                }

                if (labels.Count >= options.MaxRows)
                {
                    throw new TabularDataException($"The file has more than {options.MaxRows:N0} rows.");
                }

                var labelCell = row[label].ToString();
                if (IsMissing(labelCell))
                {
                    throw new TabularDataException($"Line {line} has no label ({options.Label}).");
                }

                labels.Add(labelCell);
                if (weight >= 0)
                {
                    weights.Add(float.TryParse(row[weight].Span, NumberStyles.Float, CultureInfo.InvariantCulture, out var w) && float.IsFinite(w) && w >= 0
                        ? w : throw new TabularDataException($"Line {line}: the weight must be a non-negative number."));
                }

                for (var c = 0; c < used.Length; c++)
                {
                    cells[c].Add(row[used[c]].ToString());
                }
            }
        }
        catch (NotSupportedException e)
        {
            // Sep's row limit: "Buffer or row has reached maximum supported length of 16777216", a quote not closed.
            throw new TabularDataException($"{path}: the row from line {next} on is too long to read; is a quote not closed? ({e.Message})");
        }

        if (labels.Count < 10)
        {
            throw new TabularDataException($"The file has {labels.Count} rows; training needs at least 10.");
        }

        var features = new PredictorFeature[used.Length];
        var values = new double[labels.Count * used.Length];
        for (var c = 0; c < used.Length; c++)
        {
            var name = names[used[c]];
            var column = cells[c];
            var categorical = options.Categorical.Contains(name) || column.Any(v => !IsMissing(v) && !IsNumber(v));
            if (!categorical)
            {
                features[c] = new PredictorFeature(name);
                for (var r = 0; r < column.Count; r++)
                {
                    values[r * used.Length + c] = IsMissing(column[r]) ? double.NaN : double.Parse(column[r], NumberStyles.Float, CultureInfo.InvariantCulture);
                }

                continue;
            }

            var categories = OrderCategories(column.Where(v => !IsMissing(v)).Distinct(StringComparer.Ordinal));
            if (categories.Length > options.MaxCategories)
            {
                throw new TabularDataException($"Column '{name}' has {categories.Length:N0} distinct values (more than {options.MaxCategories:N0}): it looks like an id; leave it out with --ignore.");
            }

            features[c] = new PredictorFeature(name, categories);
            var codes = categories.Select((v, i) => (v, i)).ToDictionary(p => p.v, p => p.i, StringComparer.Ordinal);
            for (var r = 0; r < column.Count; r++)
            {
                values[r * used.Length + c] = IsMissing(column[r]) ? double.NaN : codes[column[r]];
            }
        }

        return new TabularData(features, values, [.. labels], [.. weights]);
    }

    /// <summary>
    /// Why a column's name cannot be a feature's, or null: LightGBM's model text separates feature names by spaces
    /// (so Lasthope's trainer refuses white space), and LGBM_DatasetSetFeatureNames refuses the characters that would
    /// break its JSON dump (<c>" , : [ ] { }</c>, LightGBM's <c>Common::CheckAllowedJSON</c>).
    /// </summary>
    public static string? FeatureNameProblem(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0)
        {
            return "is empty";
        }

        if (name.Any(char.IsWhiteSpace))
        {
            return "contains white space";
        }

        return name.IndexOfAny(['"', ',', ':', '[', ']', '{', '}']) is var at and >= 0 ? $"contains '{name[at]}'" : null;
    }

    /// <summary>
    /// Opens the file for reading; Sep's column count check is off (<see cref="Read"/> checks each row, so that a ragged
    /// row is a <see cref="TabularDataException"/> naming the file and its line, not Sep's InvalidDataException).
    /// </summary>
    private static SepReader Open(string path, bool hasHeader)
    {
        try
        {
            return Sep.Reader(o => o with { HasHeader = hasHeader, Unescape = true, Trim = SepTrim.All, DisableColCountCheck = true }).FromFile(path);
        }
        catch (ArgumentException e)
        {
            // Sep refuses a header that names a column twice ("Col name 'a' found 2 times at ...").
            throw new TabularDataException($"{path}: the header names a column twice: {e.Message}");
        }
    }

    /// <summary>Numbers in numeric order, else ordinal: codes do not depend on the order of the rows.</summary>
    public static string[] OrderCategories(IEnumerable<string> values)
    {
        var distinct = values.ToArray();
        return distinct.All(IsNumber)
            ? [.. distinct.OrderBy(v => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture)).ThenBy(v => v, StringComparer.Ordinal)]
            : [.. distinct.Order(StringComparer.Ordinal)];
    }

    private static bool IsNumber(string value) => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d);

    /// <summary>The rows <paramref name="rows"/> of this table as a new matrix.</summary>
    public double[] Select(IReadOnlyList<int> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var result = new double[rows.Count * Columns];
        for (var i = 0; i < rows.Count; i++)
        {
            Values.AsSpan(rows[i] * Columns, Columns).CopyTo(result.AsSpan(i * Columns));
        }

        return result;
    }
}
