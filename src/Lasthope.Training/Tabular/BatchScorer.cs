using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Lasthope.Server.Predict;
using nietras.SeparatedValues;

namespace Lasthope.Training.Tabular;

/// <summary>What <see cref="BatchScorer.Score"/> did, as its manifest records it beside the output.</summary>
/// <param name="InputSha256">The input file's SHA-256, so a score file can be traced to exactly the rows it scored.</param>
public sealed record BatchManifest(
    string Predictor,
    string Version,
    string ModelFingerprint,
    string Input,
    long InputBytes,
    string InputSha256,
    string Output,
    long Rows,
    int Explain,
    IReadOnlyList<string> PassedThrough,
    DateTimeOffset Started,
    double Seconds,
    double RowsPerSecond);

/// <summary>A row of the input that cannot be scored; the CLI says it and exits with 2.</summary>
public sealed class BatchInputException(string message) : Exception(message);

/// <summary>
/// Scores a CSV file with a predictor's model and writes a CSV of scores, decisions and, when asked, reasons: rows are
/// read, encoded and scored in blocks (one <see cref="Trees.TreeModel.ScoreClasses(ReadOnlySpan{double}, Span{double}, CancellationToken)"/>
/// call per block, the evaluator's fast path), so memory stays at one block whatever the file's size. The input needs
/// every one of the predictor's features by name (extra columns are ignored, or passed through by name); values are
/// encoded as the server encodes a request's, so a file and an API call score alike.
/// </summary>
public static class BatchScorer
{
    public const int BlockRows = 4_096;

    public static BatchManifest Score(
        Predictor predictor, string input, string output, int explain, IReadOnlyList<string> passThrough, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(predictor);
        ArgumentNullException.ThrowIfNull(passThrough);
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var width = predictor.FeatureCount;
        var outputs = predictor.Outputs;
        var package = predictor.Package;
        using var file = File.OpenRead(input);
        using var reader = Sep.Reader(o => o with { Unescape = true, Trim = SepTrim.All }).From(file);
        var header = reader.Header;
        var missing = package.Features.Select(f => f.Name).Where(n => !header.ColNames.Contains(n)).ToArray();
        if (missing.Length > 0)
        {
            throw new BatchInputException($"The input has no column {string.Join(", ", missing)}; predictor '{predictor.Name}' needs {string.Join(", ", package.Features.Select(f => f.Name))}.");
        }

        foreach (var name in passThrough.Where(n => !header.ColNames.Contains(n)))
        {
            throw new BatchInputException($"The input has no column '{name}' to pass through.");
        }

        var sourceColumns = package.Features.Select(f => header.IndexOf(f.Name)).ToArray();
        var passColumns = passThrough.Select(header.IndexOf).ToArray();
        var codes = package.Features.Select(f => f.Categories?.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (double)p.i, StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>()).ToArray();
        var length = file.Length;

        using var writer = Sep.New(',').Writer(o => o with { Escape = true }).ToFile(output);
        var block = new double[BlockRows * width];
        var raw = new double[BlockRows * outputs];
        var passed = passColumns.Select(_ => new string[BlockRows]).ToArray();
        var contributions = new double[outputs * (width + 1)];
        var rowScratch = new double[width];
        long rows = 0;
        var line = 1L;
        var filled = 0;

        void Flush()
        {
            if (filled == 0)
            {
                return;
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (predictor.Model.ScoreClasses(block.AsSpan(0, filled * width), raw.AsSpan(0, filled * outputs), cancellationToken) < filled)
            {
                throw new OperationCanceledException(cancellationToken);
            }
            for (var r = 0; r < filled; r++)
            {
#pragma warning disable CA2016 // Sep's token overload is for asynchronous writing; the block checks the token itself
                using var row = writer.NewRow();
#pragma warning restore CA2016
                for (var p = 0; p < passColumns.Length; p++)
                {
                    row[passThrough[p]].Set(passed[p][r]);
                }

                WriteOutcome(row, predictor, raw.AsSpan(r * outputs, outputs));
                if (explain > 0)
                {
                    var features = block.AsSpan(r * width, width);
                    features.CopyTo(rowScratch);
                    var prediction = predictor.Predict(rowScratch, PredictionSource.Model, explain, counterfactual: false);
                    for (var k = 0; k < explain; k++)
                    {
                        var reason = k < prediction.Reasons.Count ? prediction.Reasons[k] : null;
                        row[$"reason_{k + 1}"].Set(reason is null ? "" : $"{reason.Feature} = {reason.Value}");
                        row[$"contribution_{k + 1}"].Set(reason is null ? "" : reason.Contribution.ToString("R", CultureInfo.InvariantCulture));
                    }
                }
            }

            rows += filled;
            filled = 0;
            progress?.Report(length == 0 ? 1 : Math.Min(1, (file.CanSeek ? file.Position : length) / (double)length));
        }

        foreach (var row in reader)
        {
            line++;
            var target = block.AsSpan(filled * width, width);
            for (var c = 0; c < width; c++)
            {
                var cell = row[sourceColumns[c]].Span;
                if (cell.Length == 0 || cell is "NA" or "?" or "NaN" or "null")
                {
                    target[c] = double.NaN;
                }
                else if (codes[c] is { } lookup)
                {
                    target[c] = lookup.TryGetValue(cell, out var code) ? code : double.NaN;
                }
                else if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out target[c]) || !double.IsFinite(target[c]))
                {
                    throw new BatchInputException($"Line {line}, column {package.Features[c].Name}: '{cell}' is not a number.");
                }
            }

            for (var p = 0; p < passColumns.Length; p++)
            {
                passed[p][filled] = row[passColumns[p]].ToString();
            }

            if (++filled == BlockRows)
            {
                Flush();
            }
        }

        Flush();
        if (rows == 0)
        {
            // Sep writes the header with the first row; an empty input still gets a file with its header.
            writer.Header.Add([.. passThrough, .. OutcomeColumns(predictor), .. Enumerable.Range(1, explain).SelectMany(k => new[] { $"reason_{k}", $"contribution_{k}" })]);
            writer.Header.Write();
        }

        writer.Flush();
        var seconds = clock.Elapsed.TotalSeconds;
        return new BatchManifest(predictor.Name, predictor.Version, predictor.Model.Fingerprint, Path.GetFullPath(input), length, Sha256(input), Path.GetFullPath(output),
            rows, explain, passThrough, started, seconds, rows / Math.Max(seconds, 1e-9));
    }

    /// <summary>The outcome columns: score and decision (and each class's probability for multiclass).</summary>
    public static IEnumerable<string> OutcomeColumns(Predictor predictor)
    {
        ArgumentNullException.ThrowIfNull(predictor);
        yield return "score";
        if (predictor.Package.Task != PredictionTask.Regression)
        {
            yield return "decision";
        }

        if (predictor.Package.Task == PredictionTask.Multiclass)
        {
            foreach (var c in predictor.Package.Classes)
            {
                yield return "p_" + c;
            }
        }
    }

    private static void WriteOutcome(SepWriter.Row row, Predictor predictor, Span<double> raw)
    {
        var package = predictor.Package;
        switch (package.Task)
        {
            case PredictionTask.Binary:
                var p = predictor.Model.Transform(raw[0]);
                row["score"].Set(p.ToString("R", CultureInfo.InvariantCulture));
                row["decision"].Set(predictor.Decide(raw[0]));
                break;
            case PredictionTask.Multiclass:
                var best = predictor.Model.PredictClass(raw);
                predictor.Model.Transform(raw);
                row["score"].Set(raw[best].ToString("R", CultureInfo.InvariantCulture));
                row["decision"].Set(package.Classes[best]);
                for (var k = 0; k < raw.Length; k++)
                {
                    row["p_" + package.Classes[k]].Set(raw[k].ToString("R", CultureInfo.InvariantCulture));
                }

                break;
            default:
                row["score"].Set(predictor.Model.Transform(raw[0]).ToString("R", CultureInfo.InvariantCulture));
                break;
        }
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>The manifest's JSON (indented), written beside the output as OUTPUT.manifest.json.</summary>
    public static string ManifestJson(BatchManifest manifest) => JsonSerializer.Serialize(manifest, BatchJson.Default.BatchManifest);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(BatchManifest))]
internal sealed partial class BatchJson : JsonSerializerContext;
