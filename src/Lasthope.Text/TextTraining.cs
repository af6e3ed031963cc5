using System.Diagnostics;
using System.Globalization;
using Lasthope.Core.Identifiers;
using Lasthope.Evaluation;

namespace Lasthope.Text;

/// <summary>How <see cref="TextTraining"/> trains and measures.</summary>
public sealed record TextTrainingOptions
{
    public TextTask Task { get; init; } = TextTask.Classify;

    /// <summary>The model's name, by the id rule.</summary>
    public required string Name { get; init; }

    /// <summary>Seed of the split, the trainers and the bootstrap.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>The held-out share of a data set without its own test file (stratified by class to classify).</summary>
    public double TestShare { get; init; } = 0.2;

    /// <summary>The encoder's budget per request in the package.</summary>
    public int BudgetMs { get; init; } = 20;

    /// <summary>Texts per encoder call.</summary>
    public int BatchSize { get; init; } = EncoderScorer.DefaultBatchSize;

    /// <summary>Held-out texts encoded one at a time to measure the encoder's cost at batch 1.</summary>
    public int CostSample { get; init; } = 64;

    public int Resamples { get; init; } = 1000;
}

/// <summary>What the encoder cost per text on the held-out texts, measured as it encoded them.</summary>
/// <param name="MsPerTextBatched">Milliseconds per text, encoding every held-out text in batches of <paramref name="BatchSize"/>.</param>
/// <param name="MsPerTextSingle">Mean milliseconds per call of one text, over <paramref name="SingleTexts"/> held-out texts.</param>
public sealed record EncoderCost(string Encoder, int BatchSize, int BatchedTexts, double MsPerTextBatched, int SingleTexts, double MsPerTextSingle, double SingleP50Ms, double SingleP95Ms, double MeanCharacters);

/// <summary>Where training is: a stage and the fraction of it done.</summary>
public readonly record struct TextTrainingProgress(string Stage, double Fraction);

/// <summary>A trained text model with its held-out evaluation.</summary>
public sealed record TextTrainingReport(
    TextModel Model,
    TextEvaluation Evaluation,
    int TrainRows,
    int TestRows,
    EncoderCost? Cost,
    TimeSpan BaselineTraining,
    TimeSpan EncoderTraining,
    IReadOnlyList<string> Notes);

/// <summary>
/// Trains both families on the same split, the TF-IDF baseline and (given an encoder) the encoder with a linear head,
/// and compares them on the held-out texts beside the prior (the training class frequencies, or the training mean):
/// <see cref="TextMetrics.Compare"/> with the encoder first, so the verdict says whether it beats the best baseline.
/// The split is the data set's own test file when there is one, else a seeded stratified 80/20 (a class with one
/// row stays in training). The classes are those of the training rows, in ordinal order; held-out rows of a class
/// training never saw are left out and counted in the notes.
/// </summary>
public static class TextTraining
{
    public const string EncoderModel = "encoder", BaselineModel = "tfidf", PriorModel = "prior";

    /// <exception cref="TextDataException">Fewer than 2 classes, more than <see cref="TextModel.MaxClasses"/>, or too few rows to split.</exception>
    public static TextTrainingReport Train(TextData data, TextData? test, ITextEncoder? encoder, TextTrainingOptions options, IProgress<TextTrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        if (Ids.Problem(options.Name) is { } badName)
        {
            throw new ArgumentException($"The model's name {badName}.", nameof(options));
        }

        var notes = new List<string>(data.Notes);
        TextData train, held;
        if (test is null)
        {
            var (trainRows, testRows) = options.Task == TextTask.Classify
                ? StratifiedSplit(data.Labels, options.TestShare, options.Seed)
                : RandomSplit(data.Rows, options.TestShare, options.Seed);
            if (testRows.Length == 0 || trainRows.Length == 0)
            {
                throw new TextDataException($"{data.Source}: {data.Rows} rows are too few to hold {options.TestShare:P0} out.");
            }

            train = data.Subset(trainRows);
            held = data.Subset(testRows);
            notes.Add(Invariant($"split: {train.Rows:N0} rows to train, {held.Rows:N0} held out ({(options.Task == TextTask.Classify ? "stratified by class, " : "")}seed {options.Seed})."));
        }
        else
        {
            train = data;
            held = test;
            notes.AddRange(test.Notes);
            notes.Add(Invariant($"split: {train.Rows:N0} rows of {data.Source} to train, {held.Rows:N0} of {test.Source} held out."));
        }

        string[] classes = [];
        double[] trainLabels, testLabels;
        if (options.Task == TextTask.Classify)
        {
            classes = [.. train.Labels.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
            if (classes.Length < 2)
            {
                throw new TextDataException($"{data.Source}: the training rows hold {classes.Length} class; a classifier needs at least 2.");
            }

            if (classes.Length > TextModel.MaxClasses)
            {
                throw new TextDataException($"{data.Source}: {classes.Length:N0} classes; the limit is {TextModel.MaxClasses:N0} (is the label column an id?).");
            }

            if (classes.FirstOrDefault(c => Ids.Problem(c) is not null) is { } badClass)
            {
                throw new TextDataException($"{data.Source}: the class '{Ids.Printable(badClass)}' {Ids.Problem(badClass)}.");
            }

            var index = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
            var known = Enumerable.Range(0, held.Rows).Where(i => index.ContainsKey(held.Labels[i])).ToArray();
            if (known.Length < held.Rows)
            {
                notes.Add(Invariant($"{held.Rows - known.Length:N0} held-out rows of a class the training rows do not hold were left out."));
                held = held.Subset(known);
            }

            if (held.Rows == 0)
            {
                throw new TextDataException($"{held.Source}: no held-out row is of a class the training rows hold.");
            }

            trainLabels = [.. train.Labels.Select(l => (double)index[l])];
            testLabels = [.. held.Labels.Select(l => (double)index[l])];
        }
        else
        {
            trainLabels = train.Values;
            testLabels = held.Values;
        }

        var outputs = options.Task == TextTask.Classify ? classes.Length : 1;
        progress?.Report(new TextTrainingProgress("TF-IDF baseline", 0));
        var clock = Stopwatch.StartNew();
        var baseline = TfIdfBaseline.Train(options.Task, train.Texts, trainLabels, classes.Length, options.Seed, cancellationToken);
        var baselineTime = clock.Elapsed;
        var baselineScores = new double[held.Rows * outputs];
        baseline.Score(held.Texts, baselineScores, cancellationToken);
        progress?.Report(new TextTrainingProgress("TF-IDF baseline", 1));

        var models = new List<ScoredModel>();
        LinearHead? head = null;
        EncoderCost? cost = null;
        var encoderTime = TimeSpan.Zero;
        if (encoder is not null)
        {
            clock.Restart();
            var trainVectors = EncodeAll(encoder, train.Texts, options.BatchSize, "encoding the training texts", progress, cancellationToken);
            head = LinearHead.Train(options.Task, trainVectors, trainLabels, classes.Length, options.Seed, cancellationToken);
            encoderTime = clock.Elapsed;
            var (testVectors, measured) = MeasuredEncode(encoder, held.Texts, options, progress, cancellationToken);
            cost = measured;
            var scorer = new EncoderScorer(encoder, head, options.BatchSize);
            var encoderScores = new double[held.Rows * outputs];
            scorer.ScoreVectors(testVectors, encoderScores);
            models.Add(new ScoredModel(EncoderModel, encoderScores));
        }

        models.Add(new ScoredModel(BaselineModel, baselineScores));
        models.Add(new ScoredModel(PriorModel, Prior(options.Task, trainLabels, outputs, held.Rows)));
        progress?.Report(new TextTrainingProgress("evaluation", 0));
        var evaluation = TextMetrics.Compare(options.Task, classes, testLabels, models, options.Resamples, options.Seed);
        progress?.Report(new TextTrainingProgress("evaluation", 1));
        var model = TextModel.Create(options.Name, options.Task, classes, options.BudgetMs, baseline, head, head is null ? null : encoder);
        return new TextTrainingReport(model, evaluation, train.Rows, held.Rows, cost, baselineTime, encoderTime, notes);
    }

    /// <summary>
    /// Per class (in ordinal order of the names), a seeded shuffle of its rows, round(share x count) of them held out;
    /// a class of one row stays in training. Both index lists come back in row order.
    /// </summary>
    public static (int[] Train, int[] Test) StratifiedSplit(IReadOnlyList<string> labels, double share, int seed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(share, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(share, 1);
        var random = new Random(seed);
        var test = new List<int>();
        foreach (var group in Enumerable.Range(0, labels.Count).GroupBy(i => labels[i], StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var rows = group.ToArray();
            random.Shuffle(rows);
            var take = rows.Length < 2 ? 0 : Math.Min(rows.Length - 1, (int)Math.Round(share * rows.Length, MidpointRounding.AwayFromZero));
            test.AddRange(rows.Take(take));
        }

        var held = test.ToHashSet();
        return ([.. Enumerable.Range(0, labels.Count).Where(i => !held.Contains(i))], [.. test.Order()]);
    }

    /// <summary>A seeded shuffle of the rows, round(share x n) held out; both lists in row order.</summary>
    public static (int[] Train, int[] Test) RandomSplit(int rows, double share, int seed)
    {
        var order = Enumerable.Range(0, rows).ToArray();
        new Random(seed).Shuffle(order);
        var take = (int)Math.Round(share * rows, MidpointRounding.AwayFromZero);
        return ([.. order.Skip(take).Order()], [.. order.Take(take).Order()]);
    }

    /// <summary>Encodes <paramref name="texts"/> in batches, reporting progress.</summary>
    public static float[][] EncodeAll(ITextEncoder encoder, IReadOnlyList<string> texts, int batchSize, string stage, IProgress<TextTrainingProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(texts);
        var vectors = new float[texts.Count][];
        for (var start = 0; start < texts.Count; start += batchSize)
        {
            var count = Math.Min(batchSize, texts.Count - start);
            var batch = new string[count];
            for (var i = 0; i < count; i++)
            {
                batch[i] = texts[start + i];
            }

            var encoded = encoder.Encode(batch, cancellationToken);
            if (encoded.Length != count || encoded.Any(v => v.Length != encoder.Dimensions))
            {
                throw new InvalidOperationException($"The encoder gave {encoded.Length} vectors for {count} texts, or a vector of the wrong length.");
            }

            encoded.CopyTo(vectors, start);
            progress?.Report(new TextTrainingProgress(stage, (double)(start + count) / texts.Count));
        }

        return vectors;
    }

    /// <summary>The held-out texts encoded in batches (timed), then a sample of them one at a time (timed per call).</summary>
    private static (float[][] Vectors, EncoderCost Cost) MeasuredEncode(ITextEncoder encoder, string[] texts, TextTrainingOptions options, IProgress<TextTrainingProgress>? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var vectors = EncodeAll(encoder, texts, options.BatchSize, "encoding the held-out texts", progress, cancellationToken);
        var batched = clock.Elapsed.TotalMilliseconds / texts.Length;
        var sample = Math.Min(options.CostSample, texts.Length);
        var single = new double[sample];
        for (var i = 0; i < sample; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            clock.Restart();
            encoder.Encode([texts[i]], cancellationToken);
            single[i] = clock.Elapsed.TotalMilliseconds;
        }

        var sorted = single.Order().ToArray();
        double Q(double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        return (vectors, new EncoderCost(encoder.Name, options.BatchSize, texts.Length, batched, sample, sample == 0 ? double.NaN : single.Average(), Q(0.5), Q(0.95), texts.Average(t => (double)t.Length)));
    }

    private static double[] Prior(TextTask task, double[] trainLabels, int outputs, int rows)
    {
        var row = new double[outputs];
        if (task == TextTask.Classify)
        {
            foreach (var label in trainLabels)
            {
                row[(int)label] += 1.0 / trainLabels.Length;
            }
        }
        else
        {
            row[0] = trainLabels.Average();
        }

        var prior = new double[rows * outputs];
        for (var i = 0; i < rows; i++)
        {
            row.CopyTo(prior, i * outputs);
        }

        return prior;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
