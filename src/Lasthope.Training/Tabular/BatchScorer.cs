using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Lasthope.Server.Predict;
using Lasthope.Trees;
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

/// <summary>
/// The first rows of a scored file, kept for a report: their encoded features, their predictions (P(positive), the
/// value, or every class's probability), and their outcomes when a label column was named (binary 0/1, the value, or
/// the class index; NaN where the cell is not one).
/// </summary>
public sealed record BatchSample(double[] Features, double[] Predictions, double[]? Labels, string? LabelColumn, bool Truncated);

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
        => Score(predictor, input, output, explain, passThrough, sampleRows: 0, labelColumn: null, progress, cancellationToken).Manifest;

    /// <summary>Scores the file and keeps its first <paramref name="sampleRows"/> rows (with <paramref name="labelColumn"/>'s outcomes) for a report.</summary>
    public static (BatchManifest Manifest, BatchSample? Sample) Score(
        Predictor predictor, string input, string output, int explain, IReadOnlyList<string> passThrough, int sampleRows, string? labelColumn,
        IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(predictor);
        ArgumentNullException.ThrowIfNull(passThrough);
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var width = predictor.FeatureCount;
        var package = predictor.Package;
        using var file = new HashingReadStream(File.OpenRead(input));
        using var reader = Open(file, input);
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

        // A passed-through column keeps its name, so one named as an output column would be overwritten by it (Sep
        // writes a named column once): refused rather than renamed, so that the output's columns always mean the same.
        var produced = OutputColumns(predictor, explain).ToHashSet(StringComparer.Ordinal);
        foreach (var name in passThrough.Where(produced.Contains))
        {
            throw new BatchInputException($"The column '{name}' cannot be passed through: the output has a column of that name ({string.Join(", ", OutputColumns(predictor, explain))}); rename it in the input.");
        }

        if (labelColumn is not null && !header.ColNames.Contains(labelColumn))
        {
            throw new BatchInputException($"The input has no label column '{labelColumn}'.");
        }

        var labelIndex = labelColumn is null ? -1 : header.IndexOf(labelColumn);
        var classIndex = package.Classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (double)p.i, StringComparer.Ordinal);
        var sampleFeatures = new List<double>();
        var sampleLabels = labelColumn is null ? null : new List<double>();
        var sourceColumns = package.Features.Select(f => header.IndexOf(f.Name)).ToArray();
        var passColumns = passThrough.Select(header.IndexOf).ToArray();
        var codes = package.Features.Select(f => f.Categories?.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (double)p.i, StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>()).ToArray();
        var length = file.Length;

        using var writer = Sep.New(',').Writer(o => o with { Escape = true }).ToFile(output);
        var sink = new BlockSink(predictor, writer, explain, passThrough);

        // Two blocks: this thread parses one while a worker scores and writes the other, so the two cores share the
        // work instead of taking turns. Whatever ends the loop, the worker is stopped and waited for before the writer
        // and the input are disposed (see the finally).
        Block filling = new(width, passColumns.Length), spare = new(width, passColumns.Length);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task pending = Task.CompletedTask;
        long rows = 0;
        var read = 0L; // rows read, for the sample
        var next = 2; // the line where the next row starts

        void Hand()
        {
            pending.GetAwaiter().GetResult();
            cancellationToken.ThrowIfCancellationRequested();
            var full = filling;
            rows += full.Rows;
            var position = file.Position;
            pending = Task.Run(() =>
            {
                sink.Write(full, stop.Token);
                progress?.Report(length == 0 ? 1 : Math.Min(1, position / (double)length));
            }, stop.Token);
            (filling, spare) = (spare, full);
            filling.Rows = 0;
        }

        var columns = header.ColNames.Count;
        try
        {
            foreach (var row in reader)
            {
                read++;
                next = row.LineNumberToExcl;
                if (row.ColCount != columns)
                {
                    throw new BatchInputException($"{input}: line {row.LineNumberFrom} has {row.ColCount} fields, but the header has {columns}.");
                }

                var target = filling.Features.AsSpan(filling.Rows * width, width);
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
                        throw new BatchInputException($"Line {row.LineNumberFrom}, column {package.Features[c].Name}: '{cell}' is not a number.");
                    }
                }

                for (var p = 0; p < passColumns.Length; p++)
                {
                    filling.Passed[p][filling.Rows] = row[passColumns[p]].ToString();
                }

                if (read <= sampleRows)
                {
                    sampleFeatures.AddRange(target);
                    if (sampleLabels is not null)
                    {
                        sampleLabels.Add(Outcome(package, classIndex, row[labelIndex].ToString()));
                    }
                }

                if (++filling.Rows == BlockRows)
                {
                    Hand();
                }
            }

            if (filling.Rows > 0)
            {
                Hand();
            }

            pending.GetAwaiter().GetResult();
        }
        catch (NotSupportedException e)
        {
            // Sep's row limit: "Buffer or row has reached maximum supported length of 16777216", a quote not closed.
            throw new BatchInputException($"{input}: the row from line {next} on is too long to read; is a quote not closed? ({e.Message})");
        }
        finally
        {
            if (!pending.IsCompletedSuccessfully)
            {
                // An exception ends the loop: the worker (still scoring or writing the last block handed to it) is
                // cancelled and waited for, so no work outlives the call and nothing writes to a disposed writer. Its
                // own failure, if any, is observed here and dropped: the exception that ended the loop is the one to report.
                stop.Cancel();
                Task.WaitAny([pending], CancellationToken.None);
                _ = pending.Exception;
            }
        }

        if (rows == 0)
        {
            // Sep writes the header with the first row; an empty input still gets a file with its header.
            writer.Header.Add([.. passThrough, .. OutputColumns(predictor, explain)]);
            writer.Header.Write();
        }

        writer.Flush();
        var sha256 = file.Finish();
        var seconds = clock.Elapsed.TotalSeconds;
        var manifest = new BatchManifest(predictor.Name, predictor.Version, predictor.Model.Fingerprint, Path.GetFullPath(input), length, sha256, Path.GetFullPath(output),
            rows, explain, passThrough, started, seconds, rows / Math.Max(seconds, 1e-9));
        if (sampleRows <= 0)
        {
            return (manifest, null);
        }

        var features = sampleFeatures.ToArray();
        var predictions = TabularTraining.Predictions(predictor, features, features.Length / width, PredictionSource.Model);
        return (manifest, new BatchSample(features, predictions, sampleLabels?.ToArray(), labelColumn, rows > sampleRows));
    }

    /// <summary>
    /// A label cell as the report's outcome; a missing cell is NaN. Binary: 1 for the positive class (the package's
    /// second class, or 1 without class names; as a name or as the same number), 0 for every other value, as
    /// <c>train-model --positive</c> counted the training labels (a package trained on three values has the classes
    /// "not X" and X, and one trained on two may meet a third). Regression: the number. Multiclass: the class's index,
    /// NaN for a value that is not a class.
    /// </summary>
    private static double Outcome(PredictorPackage package, Dictionary<string, double> classIndex, string cell)
    {
        if (TabularData.IsMissing(cell))
        {
            return double.NaN;
        }

        static bool Number(string text, out double value) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        switch (package.Task)
        {
            case PredictionTask.Binary:
                var positive = package.Classes.Count == 2 ? package.Classes[1] : "1";
                return cell == positive || Number(cell, out var v) && Number(positive, out var p) && v == p ? 1 : 0;
            case PredictionTask.Regression:
                return Number(cell, out var value) ? value : double.NaN;
            default:
                return classIndex.GetValueOrDefault(cell, double.NaN);
        }
    }

    /// <summary>
    /// Opens the input; Sep's column count check is off (<see cref="Score(Predictor, string, string, int, IReadOnlyList{string}, int, string?, IProgress{double}?, CancellationToken)"/>
    /// checks each row, so that a ragged row is a <see cref="BatchInputException"/> naming the file and its line, not
    /// Sep's InvalidDataException).
    /// </summary>
    private static SepReader Open(Stream file, string input)
    {
        try
        {
            return Sep.Reader(o => o with { Unescape = true, Trim = SepTrim.All, DisableColCountCheck = true }).From(file);
        }
        catch (ArgumentException e)
        {
            // Sep refuses a header that names a column twice ("Col name 'a' found 2 times at ...").
            throw new BatchInputException($"{input}: the header names a column twice: {e.Message}");
        }
    }

    /// <summary>One block of parsed rows: features, and the passed-through cells.</summary>
    private sealed class Block(int width, int passed)
    {
        public double[] Features { get; } = new double[BlockRows * width];

        public string[][] Passed { get; } = [.. Enumerable.Range(0, passed).Select(_ => new string[BlockRows])];

        public int Rows { get; set; }
    }

    /// <summary>Scores a block in one call and writes its rows; used by one worker at a time.</summary>
    private sealed class BlockSink(Predictor predictor, SepWriter writer, int explain, IReadOnlyList<string> passThrough)
    {
        private readonly double[] _raw = new double[BlockRows * predictor.Outputs];

        public void Write(Block block, CancellationToken cancellationToken)
        {
            var width = predictor.FeatureCount;
            var outputs = predictor.Outputs;
            // Scoring is most of the work (about 13 ns per tree and row): the block's two halves go to both cores.
            var half = block.Rows / 2 / TreeModel.ScoringBlockSize * TreeModel.ScoringBlockSize;
            var scored = new int[2];
            Parallel.Invoke(
                new ParallelOptions { CancellationToken = cancellationToken },
                () => scored[0] = predictor.Model.ScoreClasses(block.Features.AsSpan(0, half * width), _raw.AsSpan(0, half * outputs), cancellationToken),
                () => scored[1] = predictor.Model.ScoreClasses(block.Features.AsSpan(half * width, (block.Rows - half) * width), _raw.AsSpan(half * outputs, (block.Rows - half) * outputs), cancellationToken));
            if (scored[0] + scored[1] < block.Rows)
            {
                throw new OperationCanceledException(cancellationToken);
            }

            // Explanations (exact TreeSHAP, about 0.4 ms a row for 300 trees of 31 leaves) on both cores, then written in order.
            var explained = explain > 0 ? new Prediction[block.Rows] : null;
            if (explained is not null)
            {
                Parallel.For(0, block.Rows, new ParallelOptions { CancellationToken = cancellationToken }, r =>
                    explained[r] = predictor.Predict(block.Features.AsSpan(r * width, width), PredictionSource.Model, explain, counterfactual: false));
            }

            for (var r = 0; r < block.Rows; r++)
            {
#pragma warning disable CA2016 // Sep's token overload is for asynchronous writing; the block checks the token itself
                using var row = writer.NewRow();
#pragma warning restore CA2016
                for (var p = 0; p < passThrough.Count; p++)
                {
                    row[passThrough[p]].Set(block.Passed[p][r]);
                }

                WriteOutcome(row, predictor, _raw.AsSpan(r * outputs, outputs));
                if (explained is not null)
                {
                    var reasons = explained[r].Reasons;
                    for (var k = 0; k < explain; k++)
                    {
                        var reason = k < reasons.Count ? reasons[k] : null;
                        row[$"reason_{k + 1}"].Set(reason is null ? "" : $"{reason.Feature} = {reason.Value}");
                        row[$"contribution_{k + 1}"].Set(reason is null ? "" : reason.Contribution.ToString("R", CultureInfo.InvariantCulture));
                    }
                }
            }
        }
    }

    /// <summary>A read-only stream that hashes (SHA-256) what passes through it, so the input is read once.</summary>
    private sealed class HashingReadStream(FileStream inner) : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly long _length = inner.Length;
        private bool _closed;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => _length;

        public override long Position
        {
            get => _closed ? _length : inner.Position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var read = inner.Read(buffer);
            _hash.AppendData(buffer[..read]);
            return read;
        }

        /// <summary>The rest of the file is hashed too (a reader may stop early), and the hash returned.</summary>
        public string Finish()
        {
            var rest = new byte[64 * 1024];
            int read;
            while (!_closed && (read = inner.Read(rest)) > 0)
            {
                _hash.AppendData(rest.AsSpan(0, read));
            }

            var hash = Convert.ToHexStringLower(_hash.GetHashAndReset());
            _hash.Dispose();
            return hash;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _closed = true;
                inner.Dispose(); // the hash stays until Finish: the reader may dispose its stream when it reaches the end
            }

            base.Dispose(disposing);
        }
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

    /// <summary>The columns Score writes after the passed-through ones: the outcome columns, then reason_k and contribution_k for k = 1 to <paramref name="explain"/>.</summary>
    public static IEnumerable<string> OutputColumns(Predictor predictor, int explain) =>
        OutcomeColumns(predictor).Concat(Enumerable.Range(1, explain).SelectMany(k => new[] { $"reason_{k}", $"contribution_{k}" }));

    private static void WriteOutcome(SepWriter.Row row, Predictor predictor, Span<double> raw)
    {
        var package = predictor.Package;
        switch (package.Task)
        {
            case PredictionTask.Binary:
                var p = predictor.Model.Transform(raw[0]);
                row["score"].Set(p.ToString("R", CultureInfo.InvariantCulture));
                row["decision"].Set(predictor.Decide(p));
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

    /// <summary>The manifest's JSON (indented), written beside the output as OUTPUT.manifest.json.</summary>
    public static string ManifestJson(BatchManifest manifest) => JsonSerializer.Serialize(manifest, BatchJson.Default.BatchManifest);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(BatchManifest))]
internal sealed partial class BatchJson : JsonSerializerContext;
