using System.Diagnostics;
using Lasthope.Evaluation;

namespace Lasthope.Text.EditNeed;

/// <summary>Rows to train a regressor on: a dense row-major matrix and a label per row.</summary>
public sealed record EditNeedMatrix(double[] Features, int Rows, int Columns, float[] Labels);

/// <summary>
/// Trains the tree regressor of edit need (squared error) and returns it as LightGBM model text. The host supplies
/// it (the CLI's is native LightGBM), so that this library, which the server serves from, carries no native code.
/// </summary>
public interface IEditNeedRegressor
{
    /// <summary>Trains on <paramref name="train"/>, stopping early on <paramref name="validation"/>.</summary>
    /// <returns>LightGBM model text with <see cref="EditNeedMatrix.Columns"/> features.</returns>
    string Train(EditNeedMatrix train, EditNeedMatrix validation, IReadOnlyList<string> featureNames, int seed, CancellationToken cancellationToken);
}

/// <summary>How edit need is trained and measured.</summary>
public sealed record EditNeedTrainingOptions
{
    public EditNeedLevel Level { get; init; } = EditNeedLevel.Sentence;

    /// <summary>Seed of the document split, the trees, the random baseline and the bootstrap.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>The share of source documents held out.</summary>
    public double TestFraction { get; init; } = 0.2;

    /// <summary>The share of the training documents kept aside to stop the trees early.</summary>
    public double ValidationFraction { get; init; } = 0.15;

    /// <summary>The share of a text's units highlighted.</summary>
    public double HighlightShare { get; init; } = 0.2;

    /// <summary>A unit needs editing when its edit rate is above this quantile of the training units' rates.</summary>
    public double RelevantQuantile { get; init; } = 0.8;

    /// <summary>Hashed word n-gram buckets.</summary>
    public int HashBuckets { get; init; } = 256;

    /// <summary>The trees learn rates clipped at this (a few short units rewritten whole reach 2 or more and would dominate squared error).</summary>
    public double LabelCap { get; init; } = 1.0;

    public int Resamples { get; init; } = 1000;

    /// <summary>Encoder batch size.</summary>
    public int BatchSize { get; init; } = 16;
}

/// <summary>What a training run measured and built.</summary>
/// <param name="EncoderMsPerText">The encoder's mean cost per unit in batches, or null without an encoder.</param>
public sealed record EditNeedTrainingReport(
    EditNeedComparison Comparison, EditNeedModel Model, EditNeedTrainingOptions Options, int TrainDocuments, int TrainUnits, int ValidationUnits, double? EncoderMsPerText,
    IReadOnlyList<string> Notes);

/// <summary>
/// Trains and measures edit need. Source documents (doc_id) are split once with the seed (Lasthope.Evaluation's
/// <see cref="Splits.HoldOutUsers"/>, documents in place of users): no document, nor any revision of it, is on both
/// sides. On the training documents: the vocabulary (their edited texts), the length baseline's least-squares line, the
/// relevance threshold, and the trees (with a share of the training documents to stop early). On the held-out ones:
/// three baselines (random; length, the fitted line of the rate on the token count; the out-of-vocabulary rate) and the
/// learnt models (trees on the text features; trees on the text features and the encoder's vector), compared by
/// <see cref="EditNeedEvaluation.Compare"/>. The model returned is the one measured.
/// </summary>
public static class EditNeedTraining
{
    public const string RandomBaseline = "random";
    public const string LengthBaseline = "length";
    public const string OovBaseline = "oov-rate";
    public const string TextTrees = "trees: text features";
    public const string EncoderTrees = "trees: text + encoder";

    /// <summary>Trains and measures; <paramref name="encoder"/> null trains the text-features model only.</summary>
    public static EditNeedTrainingReport Run(IReadOnlyList<EditNeedDocument> documents, EditNeedTrainingOptions options, IEditNeedRegressor regressor, ITextEncoder? encoder = null,
        Action<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(regressor);
        var texts = documents.Where(d => d.Units.Count > 0).ToList();
        var ids = texts.Select(d => d.DocumentId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (ids.Count < 10)
        {
            throw new ArgumentException($"{ids.Count} documents are too few to split (10 at least).", nameof(documents));
        }

        var testMask = Splits.HoldOutUsers(ids.Count, options.TestFraction, options.Seed);
        var trainIds = ids.Where((_, i) => !testMask[i]).ToList();
        var validMask = Splits.HoldOutUsers(trainIds.Count, options.ValidationFraction, options.Seed + 1);
        var test = new HashSet<string>(ids.Where((_, i) => testMask[i]), StringComparer.Ordinal);
        var valid = new HashSet<string>(trainIds.Where((_, i) => validMask[i]), StringComparer.Ordinal);
        var trainTexts = texts.Where(d => !test.Contains(d.DocumentId) && !valid.Contains(d.DocumentId)).ToList();
        var validTexts = texts.Where(d => valid.Contains(d.DocumentId)).ToList();
        var testTexts = texts.Where(d => test.Contains(d.DocumentId)).ToList();
        var fitUnits = trainTexts.Concat(validTexts).SelectMany(d => d.Units).ToList();

        var notes = new List<string>();
        var features = new EditNeedFeatures(EditNeedFeatures.VocabularyOf(fitUnits), options.HashBuckets);
        var fitRates = fitUnits.Select(u => u.Rate).Order().ToArray();
        var relevantAbove = fitRates[(int)Math.Min(fitRates.Length - 1, Math.Floor(options.RelevantQuantile * fitRates.Length))];
        progress?.Invoke($"{trainTexts.Count + validTexts.Count} texts ({trainIds.Count} documents) to train, {testTexts.Count} texts ({test.Count} documents) held out; vocabulary {features.VocabularySize:N0} words");

        // Text features, and the encoder's vectors when there is one.
        var textRows = new Dictionary<EditNeedDocument, double[]>(ReferenceEqualityComparer.Instance);
        foreach (var d in texts)
        {
            var rows = new double[d.Units.Count * features.Count];
            features.Fill([.. d.Units.Select(u => u.Original)], rows);
            textRows[d] = rows;
        }

        double? msPerText = null;
        var vectors = new Dictionary<EditNeedExample, float[]>(ReferenceEqualityComparer.Instance);
        if (encoder is not null)
        {
            // Batches of similar length: a batch is padded to its longest text, and attention costs grow with it.
            var all = texts.SelectMany(d => d.Units).OrderBy(u => u.Original.Length).ToList();
            var clock = Stopwatch.StartNew();
            for (var start = 0; start < all.Count; start += options.BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var batch = all.GetRange(start, Math.Min(options.BatchSize, all.Count - start));
                var v = encoder.Encode([.. batch.Select(u => u.Original)], cancellationToken);
                for (var i = 0; i < batch.Count; i++)
                {
                    vectors[batch[i]] = v[i];
                }

                progress?.Invoke($"encoded {Math.Min(start + options.BatchSize, all.Count):N0}/{all.Count:N0} units");
            }

            msPerText = clock.Elapsed.TotalMilliseconds / Math.Max(1, all.Count);
        }

        progress?.Invoke("training the trees on the text features");
        var textModel = regressor.Train(Matrix(trainTexts, textRows, features.Count, null, 0, options.LabelCap), Matrix(validTexts, textRows, features.Count, null, 0, options.LabelCap),
            features.Names, options.Seed, cancellationToken);
        string? encoderModel = null;
        if (encoder is not null)
        {
            progress?.Invoke("training the trees on the text features and the encoder's vectors");
            IReadOnlyList<string> names = [.. features.Names, .. Enumerable.Range(0, encoder.Dimensions).Select(i => $"encoder_{i}")];
            encoderModel = regressor.Train(Matrix(trainTexts, textRows, features.Count, vectors, encoder.Dimensions, options.LabelCap),
                Matrix(validTexts, textRows, features.Count, vectors, encoder.Dimensions, options.LabelCap), names, options.Seed, cancellationToken);
        }
        else
        {
            notes.Add("No encoder: the text-features model only.");
        }

        var model = EditNeedModel.Create(options.Level, options.HighlightShare, features, textModel, encoder?.Name, encoder?.Dimensions ?? 0, encoderModel, encoder);

        // The baselines, fitted on the training units.
        var (intercept, slope) = LeastSquares(fitUnits.Select(u => (double)EditRate.Tokenize(u.Original).Length).ToArray(), fitUnits.Select(u => u.Rate).ToArray());
        notes.Add(FormattableString.Invariant($"length baseline: rate = {intercept:0.0000} + {slope:0.000000} x tokens (least squares on the training units)"));
        var testUnits = testTexts.SelectMany(d => d.Units).ToList();
        var random = new Random(options.Seed);
        var scores = new List<EditNeedScores>
        {
            new(RandomBaseline, true, [.. testUnits.Select(_ => random.NextDouble())]),
            new(LengthBaseline, true, [.. testUnits.Select(u => intercept + (slope * EditRate.Tokenize(u.Original).Length))]),
            new(OovBaseline, true, [.. testUnits.Select(u => features.OovRate(u.Original))]),
            new(TextTrees, false, Predict(model, testTexts, useEncoder: false, cancellationToken)),
        };
        if (encoderModel is not null)
        {
            scores.Add(new EditNeedScores(EncoderTrees, false, Predict(model, testTexts, useEncoder: true, cancellationToken)));
        }

        progress?.Invoke("measuring on the held-out documents");
        var comparison = EditNeedEvaluation.Compare(testUnits, scores, relevantAbove, options.HighlightShare, withinText: options.Level == EditNeedLevel.Sentence, options.Resamples, options.Seed);
        if (options.Level == EditNeedLevel.Paragraph)
        {
            notes.Add("Paragraph level: a text here is one paragraph, so the highlights are the top share of all held-out paragraphs, not of each text.");
        }

        return new EditNeedTrainingReport(comparison, model, options, trainIds.Count, trainTexts.Sum(d => d.Units.Count), validTexts.Sum(d => d.Units.Count), msPerText, notes);
    }

    private static double[] Predict(EditNeedModel model, List<EditNeedDocument> texts, bool useEncoder, CancellationToken cancellationToken)
    {
        var result = new List<double>();
        foreach (var d in texts)
        {
            var rates = new double[d.Units.Count];
            model.Score([.. d.Units.Select(u => u.Original)], rates, useEncoder, cancellationToken);
            result.AddRange(rates);
        }

        return [.. result];
    }

    private static EditNeedMatrix Matrix(List<EditNeedDocument> texts, Dictionary<EditNeedDocument, double[]> textRows, int f, Dictionary<EditNeedExample, float[]>? vectors, int dimensions, double cap)
    {
        var rows = texts.Sum(d => d.Units.Count);
        var width = f + dimensions;
        var x = new double[rows * width];
        var y = new float[rows];
        var r = 0;
        foreach (var d in texts)
        {
            var t = textRows[d];
            for (var u = 0; u < d.Units.Count; u++, r++)
            {
                t.AsSpan(u * f, f).CopyTo(x.AsSpan(r * width, f));
                if (vectors is not null)
                {
                    var v = vectors[d.Units[u]];
                    for (var k = 0; k < dimensions; k++)
                    {
                        x[(r * width) + f + k] = v[k];
                    }
                }

                y[r] = (float)Math.Min(cap, d.Units[u].Rate);
            }
        }

        return new EditNeedMatrix(x, rows, width, y);
    }

    private static (double Intercept, double Slope) LeastSquares(double[] x, double[] y)
    {
        var mx = x.Average();
        var my = y.Average();
        double sxy = 0, sxx = 0;
        for (var i = 0; i < x.Length; i++)
        {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
        }

        var slope = sxx == 0 ? 0 : sxy / sxx;
        return (my - (slope * mx), slope);
    }
}
