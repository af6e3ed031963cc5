using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Lasthope.Evaluation;

namespace Lasthope.Text.EditNeed;

/// <summary>A blinded row for a human: an id and a unit's text; the label column is left empty.</summary>
public sealed record AnnotationRow(string Id, string Text);

/// <summary>What the annotator must not see: each row's arms (model, random, or both), its document and unit, and the predicted rate.</summary>
public sealed record AnnotationKeyRow(string Id, IReadOnlyList<string> Arms, int Document, int Unit, double PredictedRate);

/// <summary>The hidden key of a blinded file.</summary>
public sealed record AnnotationKey(string Format, int Seed, int Documents, int Units, int Highlighted, IReadOnlyList<AnnotationKeyRow> Rows);

/// <summary>One arm's labelled rows: how many were judged to need editing, of how many, with a Wilson interval.</summary>
public sealed record AnnotationArm(string Name, int NeedsEditing, int Labelled, Interval Precision);

/// <summary>The highlight precision of the model's arm against the random arm.</summary>
/// <param name="Difference">Model minus random, with Newcombe's interval for a difference of proportions.</param>
public sealed record AnnotationScore(AnnotationArm Model, AnnotationArm Random, Interval Difference, int Unlabelled, string Verdict);

/// <summary>A blinded file or its key is malformed: the message says where.</summary>
public sealed class AnnotationException : Exception
{
    public AnnotationException()
    {
    }

    public AnnotationException(string message)
        : base(message)
    {
    }

    public AnnotationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The annotation protocol for edit need: a blinded file mixing the model's highlights with units drawn at random, in
/// shuffled order, for a human to label "needs editing" (1/0, yes/no); then the precision of each arm with Wilson score
/// intervals (Wilson 1927, "Probable inference, the law of succession, and statistical inference") and the difference
/// with Newcombe's hybrid score interval (Newcombe 1998, "Interval estimation for the difference between independent
/// proportions", method 10). The random arm is drawn from all units, so it estimates the base rate a highlight must beat;
/// a unit drawn into both arms is shown once and counts in both (the arms are then not quite independent, which
/// Newcombe's interval assumes).
/// </summary>
public static class EditNeedAnnotation
{
    public const string KeyFormat = "lasthope-annotate-key/1";
    public const string ModelArm = "model";
    public const string RandomArm = "random";

    /// <summary>The largest input, blinded file or key read.</summary>
    public const long MaxFileBytes = 64L << 20;

    /// <summary>The most rows a blinded file may have.</summary>
    public const int MaxRows = 100_000;

    /// <summary>
    /// Reads documents to annotate: JSON Lines with a string field <c>text</c> (or IteraTeR's <c>before_revision</c>)
    /// when the file ends in .json or .jsonl; else plain text, documents separated by a line holding only <c>---</c>.
    /// </summary>
    /// <exception cref="AnnotationException">The file is too large or a JSON line has no text.</exception>
    public static IReadOnlyList<string> ReadDocuments(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        CheckSize(path);
        var name = Path.GetFileName(path);
        var documents = new List<string>();
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
        {
            var n = 0;
            foreach (var line in File.ReadLines(path, Encoding.UTF8))
            {
                n++;
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                try
                {
                    using var json = JsonDocument.Parse(line);
                    var root = json.RootElement;
                    var text = root.ValueKind == JsonValueKind.Object && (root.TryGetProperty("text", out var t) || root.TryGetProperty("before_revision", out t)) && t.ValueKind == JsonValueKind.String
                        ? t.GetString()! : throw new AnnotationException($"{name}:{n}: no string field text or before_revision.");
                    documents.Add(text);
                }
                catch (JsonException e)
                {
                    throw new AnnotationException($"{name}:{n}: {e.Message}", e);
                }
            }
        }
        else
        {
            var current = new StringBuilder();
            foreach (var line in File.ReadLines(path, Encoding.UTF8))
            {
                if (line.Trim() == "---")
                {
                    documents.Add(current.ToString());
                    current.Clear();
                }
                else
                {
                    current.AppendLine(line);
                }
            }

            documents.Add(current.ToString());
        }

        return [.. documents.Where(d => !string.IsNullOrWhiteSpace(d))];
    }

    /// <summary>
    /// Draws the blinded sample: half of <paramref name="count"/> (rounded up) from the model's highlights across the
    /// documents, the rest uniformly from all units, without replacement within an arm; shuffled; ids 1, 2, ... in the
    /// shuffled order.
    /// </summary>
    /// <exception cref="ArgumentException">A document is beyond the model's bounds, or there are no units.</exception>
    public static (IReadOnlyList<AnnotationRow> Rows, AnnotationKey Key) Sample(EditNeedModel model, IReadOnlyList<string> documents, int count, int seed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 2);
        var units = new List<(int Document, EditNeedUnitPrediction Unit)>();
        for (var d = 0; d < documents.Count; d++)
        {
            foreach (var u in model.Predict(documents[d], cancellationToken: cancellationToken).Units)
            {
                units.Add((d, u));
            }
        }

        if (units.Count == 0)
        {
            throw new ArgumentException("The documents have no units.", nameof(documents));
        }

        var random = new Random(seed);
        var highlighted = Enumerable.Range(0, units.Count).Where(i => units[i].Unit.Highlighted).ToArray();
        var modelCount = Math.Min(highlighted.Length, (count + 1) / 2);
        var fromModel = Draw(highlighted, modelCount, random);
        var fromRandom = Draw([.. Enumerable.Range(0, units.Count)], Math.Min(units.Count, count - modelCount), random);
        var arms = new SortedDictionary<int, List<string>>();
        foreach (var i in fromModel)
        {
            arms[i] = [ModelArm];
        }

        foreach (var i in fromRandom)
        {
            if (!arms.TryGetValue(i, out var list))
            {
                arms[i] = list = [];
            }

            list.Add(RandomArm);
        }

        var chosen = arms.Keys.ToArray();
        random.Shuffle(chosen);
        var rows = new List<AnnotationRow>(chosen.Length);
        var keyRows = new List<AnnotationKeyRow>(chosen.Length);
        for (var r = 0; r < chosen.Length; r++)
        {
            var (document, unit) = units[chosen[r]];
            var id = (r + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            rows.Add(new AnnotationRow(id, unit.Text));
            keyRows.Add(new AnnotationKeyRow(id, arms[chosen[r]], document, unit.Index, unit.Rate));
        }

        return (rows, new AnnotationKey(KeyFormat, seed, documents.Count, units.Count, highlighted.Length, keyRows));
    }

    /// <summary>Writes the blinded CSV (RFC 4180): id, text, and an empty label column.</summary>
    public static void WriteBlinded(string path, IReadOnlyList<AnnotationRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var builder = new StringBuilder("id,text,label\n");
        foreach (var row in rows)
        {
            builder.Append(Quote(row.Id)).Append(',').Append(Quote(row.Text)).Append(",\n");
        }

        File.WriteAllText(path, builder.ToString(), new UTF8Encoding(false));
    }

    /// <summary>Writes the key as JSON.</summary>
    public static void WriteKey(string path, AnnotationKey key) =>
        File.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(key, AnnotationJson.Default.AnnotationKey));

    /// <summary>Reads a key written by <see cref="WriteKey"/>.</summary>
    /// <exception cref="AnnotationException">Not a key.</exception>
    public static AnnotationKey ReadKey(string path)
    {
        CheckSize(path);
        try
        {
            var key = JsonSerializer.Deserialize(File.ReadAllBytes(path), AnnotationJson.Default.AnnotationKey);
            if (key is null || key.Format != KeyFormat || key.Rows is null || key.Rows.Any(r => r is null || r.Id is null || r.Arms is null))
            {
                throw new AnnotationException($"{Path.GetFileName(path)} is not a {KeyFormat} key.");
            }

            return key;
        }
        catch (JsonException e)
        {
            throw new AnnotationException($"{Path.GetFileName(path)} is not a {KeyFormat} key: {e.Message}", e);
        }
    }

    /// <summary>
    /// Reads the labels of a blinded file: a dictionary from id to true (needs editing), false, or null (not labelled).
    /// Labels are 1/0, yes/no, y/n or true/false, in any case.
    /// </summary>
    /// <exception cref="AnnotationException">The file has no id and label columns, a row has another label, or an id repeats.</exception>
    public static IReadOnlyDictionary<string, bool?> ReadLabels(string path)
    {
        CheckSize(path);
        var name = Path.GetFileName(path);
        var records = ParseCsv(File.ReadAllText(path, Encoding.UTF8), name);
        if (records.Count == 0)
        {
            throw new AnnotationException($"{name} is empty.");
        }

        var header = records[0].Select(h => h.Trim().ToLowerInvariant()).ToList();
        var idColumn = header.IndexOf("id");
        var labelColumn = header.IndexOf("label");
        if (idColumn < 0 || labelColumn < 0)
        {
            throw new AnnotationException($"{name} has no id and label columns.");
        }

        var labels = new Dictionary<string, bool?>(StringComparer.Ordinal);
        for (var r = 1; r < records.Count; r++)
        {
            var record = records[r];
            if (record.Count == 1 && record[0].Length == 0)
            {
                continue;
            }

            var id = idColumn < record.Count ? record[idColumn].Trim() : "";
            var text = labelColumn < record.Count ? record[labelColumn].Trim().ToLowerInvariant() : "";
            bool? label = text switch
            {
                "" => null,
                "1" or "yes" or "y" or "true" => true,
                "0" or "no" or "n" or "false" => false,
                _ => throw new AnnotationException($"{name}, row {r}: label '{text}' is not 1/0 or yes/no."),
            };
            if (!labels.TryAdd(id, label))
            {
                throw new AnnotationException($"{name}, row {r}: id '{id}' repeats.");
            }
        }

        return labels;
    }

    /// <summary>Scores the labels against the key: each arm's precision, and the difference.</summary>
    /// <exception cref="AnnotationException">An id of the file is not in the key.</exception>
    public static AnnotationScore Score(IReadOnlyDictionary<string, bool?> labels, AnnotationKey key)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(key);
        var arms = key.Rows.ToDictionary(r => r.Id, r => r.Arms, StringComparer.Ordinal);
        int mk = 0, mn = 0, rk = 0, rn = 0, unlabelled = 0;
        foreach (var (id, label) in labels)
        {
            if (!arms.TryGetValue(id, out var a))
            {
                throw new AnnotationException($"id '{id}' is not in the key: the file and the key do not belong together.");
            }

            if (label is not { } yes)
            {
                unlabelled++;
                continue;
            }

            if (a.Contains(ModelArm))
            {
                mn++;
                mk += yes ? 1 : 0;
            }

            if (a.Contains(RandomArm))
            {
                rn++;
                rk += yes ? 1 : 0;
            }
        }

        var model = new AnnotationArm(ModelArm, mk, mn, Wilson(mk, mn));
        var random = new AnnotationArm(RandomArm, rk, rn, Wilson(rk, rn));
        var difference = NewcombeDifference(mk, mn, rk, rn);
        var verdict = mn == 0 || rn == 0 ? "not enough labels: each arm needs labelled rows"
            : difference.Lower > 0 ? "the highlights are better than random units"
            : difference.Upper < 0 ? "the highlights are worse than random units"
            : "the highlights are no better than random units (the interval of the difference includes 0)";
        return new AnnotationScore(model, random, difference, unlabelled, verdict);
    }

    /// <summary>
    /// The Wilson score interval of a proportion k/n (Wilson 1927): the p whose normal test against k/n does not reject,
    /// (k + z²/2 ± z √(k(n-k)/n + z²/4)) / (n + z²). Better than the Wald interval near 0 and 1 and for small n; NaN for n = 0.
    /// </summary>
    public static Interval Wilson(int successes, int n, double level = 0.95)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(successes);
        ArgumentOutOfRangeException.ThrowIfLessThan(n, successes);
        if (n == 0)
        {
            return new Interval(double.NaN, double.NaN, double.NaN, level);
        }

        var z = Bootstrap.NormalQuantile(1 - ((1 - level) / 2));
        var z2 = z * z;
        var p = successes / (double)n;
        var centre = (successes + (z2 / 2)) / (n + z2);
        var half = z * Math.Sqrt((successes * (n - successes) / (double)n) + (z2 / 4)) / (n + z2);
        return new Interval(p, Math.Max(0, centre - half), Math.Min(1, centre + half), level);
    }

    /// <summary>
    /// Newcombe's hybrid score interval for p1 - p2 (Newcombe 1998, method 10): with (l_i, u_i) the Wilson intervals,
    /// d - √((p1-l1)² + (u2-p2)²) to d + √((u1-p1)² + (p2-l2)²).
    /// </summary>
    public static Interval NewcombeDifference(int k1, int n1, int k2, int n2, double level = 0.95)
    {
        var a = Wilson(k1, n1, level);
        var b = Wilson(k2, n2, level);
        if (n1 == 0 || n2 == 0)
        {
            return new Interval(double.NaN, double.NaN, double.NaN, level);
        }

        var d = a.Estimate - b.Estimate;
        var lower = d - Math.Sqrt(Square(a.Estimate - a.Lower) + Square(b.Upper - b.Estimate));
        var upper = d + Math.Sqrt(Square(a.Upper - a.Estimate) + Square(b.Estimate - b.Lower));
        return new Interval(d, lower, upper, level);
    }

    private static double Square(double x) => x * x;

    private static int[] Draw(int[] pool, int k, Random random)
    {
        var copy = (int[])pool.Clone();
        random.Shuffle(copy);
        return copy[..k];
    }

    private static void CheckSize(string path)
    {
        try
        {
            var length = new FileInfo(path).Length;
            if (length > MaxFileBytes)
            {
                throw new AnnotationException($"{Path.GetFileName(path)} has {length:N0} bytes, more than {MaxFileBytes:N0}.");
            }
        }
        catch (FileNotFoundException e)
        {
            throw new AnnotationException($"no file {path}", e);
        }
    }

    private static string Quote(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : field;

    /// <summary>RFC 4180 records: quoted fields may hold commas, quotes (doubled) and line breaks.</summary>
    private static List<List<string>> ParseCsv(string text, string name)
    {
        var records = new List<List<string>>();
        var record = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        var i = 0;
        if (text.Length > 0 && text[0] == '\uFEFF')
        {
            i = 1;
        }

        for (; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"' && field.Length == 0)
            {
                quoted = true;
            }
            else if (c == ',')
            {
                record.Add(field.ToString());
                field.Clear();
            }
            else if (c is '\n' or '\r')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }

                record.Add(field.ToString());
                field.Clear();
                records.Add(record);
                record = [];
                if (records.Count > MaxRows + 1)
                {
                    throw new AnnotationException($"{name} has more than {MaxRows:N0} rows.");
                }
            }
            else
            {
                field.Append(c);
            }
        }

        if (quoted)
        {
            throw new AnnotationException($"{name} ends inside a quoted field.");
        }

        if (field.Length > 0 || record.Count > 0)
        {
            record.Add(field.ToString());
            records.Add(record);
        }

        return records;
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(AnnotationKey))]
internal sealed partial class AnnotationJson : JsonSerializerContext;
