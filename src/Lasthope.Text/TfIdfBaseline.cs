using System.Collections.Concurrent;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Transforms.Text;

namespace Lasthope.Text;

/// <summary>
/// The baseline family and the last hope: word 1-2-gram and character 3-5-gram TF-IDF (ML.NET's text featurizer:
/// lower-cased, diacritics and punctuation kept as characters, each block L2-normalised) with a linear model: SDCA
/// maximum entropy (multinomial logistic regression, Shalev-Shwartz and Zhang 2013) to classify, SDCA least squares to
/// regress, both with ML.NET's default L2 penalty. The most frequent n-grams of each kind are kept (<see
/// cref="MaxWordNgrams"/>, <see cref="MaxCharNgrams"/>), so the model's size is bounded whatever the corpus.
/// <para>
/// Its form is ML.NET's model zip (<see cref="ToBytes"/>, <see cref="Load"/>). Scoring is thread-safe: a
/// <see cref="PredictionEngine{TSrc, TDst}"/> is not, so each call rents one from a small pool and returns it.
/// </para>
/// </summary>
public sealed class TfIdfBaseline : ITextScorer
{
    /// <summary>Word unigrams kept, and word bigrams kept.</summary>
    public const int MaxWordNgrams = 20_000;

    /// <summary>Character n-grams kept per length (3, 4 and 5).</summary>
    public const int MaxCharNgrams = 10_000;

    private const int PoolSize = 16;

    private readonly MLContext _ml;
    private readonly ITransformer _model;
    private readonly ConcurrentBag<PredictionEngine<TextRow, ClassScore>> _classEngines = [];
    private readonly ConcurrentBag<PredictionEngine<TextRow, ValueScore>> _valueEngines = [];

    private TfIdfBaseline(MLContext ml, ITransformer model, TextTask task, int outputs)
    {
        _ml = ml;
        _model = model;
        Task = task;
        Outputs = outputs;
    }

    public TextFamily Family => TextFamily.Baseline;

    public TextTask Task { get; }

    /// <summary>Values per text: the class count, or 1.</summary>
    public int Outputs { get; }

    /// <summary>Trains on <paramref name="texts"/>: class indices in [0, <paramref name="classes"/>) to classify, values to regress.</summary>
    public static TfIdfBaseline Train(TextTask task, IReadOnlyList<string> texts, IReadOnlyList<double> labels, int classes, int seed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(labels);
        if (texts.Count != labels.Count || texts.Count == 0)
        {
            throw new ArgumentException($"{texts.Count} texts and {labels.Count} labels.", nameof(labels));
        }

        var ml = new MLContext(seed);
        cancellationToken.ThrowIfCancellationRequested(); // ML.NET's trainers cannot be interrupted; a cancelled run stops before and after
        var featurize = Featurizer(ml);
        if (task == TextTask.Classify)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
            var data = KeyedLabels(ml, ml.Data.LoadFromEnumerable(texts.Select((t, i) => new ClassRow { Text = t, Label = (uint)labels[i] }).ToList()), classes);
            var trainer = ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options { NumberOfThreads = 1 });
            return new TfIdfBaseline(ml, featurize.AppendCacheCheckpoint(ml).Append(trainer).Fit(data), task, classes);
        }

        var rows = ml.Data.LoadFromEnumerable(texts.Select((t, i) => new ValueRow { Text = t, Label = (float)labels[i] }).ToList());
        var regressor = ml.Regression.Trainers.Sdca(new SdcaRegressionTrainer.Options { NumberOfThreads = 1 });
        return new TfIdfBaseline(ml, featurize.AppendCacheCheckpoint(ml).Append(regressor).Fit(rows), task, 1);
    }

    /// <summary>
    /// The class indices 0..classes-1 as ML.NET's key type, slot k for class k: mapped by value (every class occurs in
    /// training rows, so the k-th smallest value is k), outside the saved model so that scoring needs only the text.
    /// </summary>
    internal static IDataView KeyedLabels(MLContext ml, IDataView data, int classes)
    {
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: Microsoft.ML.Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByValue).Fit(data).Transform(data);
        var count = keyed.Schema["Label"].Type is KeyDataViewType key ? key.Count : 0;
        if (count != (ulong)classes)
        {
            throw new ArgumentException($"The labels hold {count} of the {classes} classes; every class needs a training row.", nameof(data));
        }

        return keyed;
    }

    /// <summary>ML.NET's model zip: the featurizer and the linear model, with the input schema (one text column).</summary>
    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        _ml.Model.Save(_model, _ml.Data.LoadFromEnumerable(Array.Empty<TextRow>()).Schema, stream);
        return stream.ToArray();
    }

    /// <summary>
    /// Loads a model zip written by <see cref="ToBytes"/> and checks that it scores: one text in, <paramref name="outputs"/>
    /// finite values out. Throws whatever ML.NET throws for a broken zip, or <see cref="InvalidDataException"/>; <see cref="TextModel.Load"/> wraps it.
    /// </summary>
    public static TfIdfBaseline Load(ReadOnlySpan<byte> content, TextTask task, int outputs)
    {
        var ml = new MLContext(0);
        using var stream = new MemoryStream(content.ToArray(), writable: false);
        var model = ml.Model.Load(stream, out var input);
        if (input?.GetColumnOrNull(nameof(TextRow.Text)) is not { } column || column.Type is not TextDataViewType)
        {
            throw new InvalidDataException("The baseline's input has no text column named Text.");
        }

        var baseline = new TfIdfBaseline(ml, model, task, outputs);
        var check = new double[outputs];
        baseline.Score(["warm-up"], check);
        if (check.Any(v => !double.IsFinite(v)))
        {
            throw new InvalidDataException("The baseline scores a text as a non-finite value.");
        }

        return baseline;
    }

    public void Score(IReadOnlyList<string> texts, Span<double> output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (output.Length != texts.Count * Outputs)
        {
            throw new ArgumentException($"{output.Length} outputs for {texts.Count} texts of {Outputs} values.", nameof(output));
        }

        if (Task == TextTask.Classify)
        {
            var engine = Rent(_classEngines);
            try
            {
                var row = new TextRow();
                var scored = new ClassScore();
                for (var i = 0; i < texts.Count; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    row.Text = texts[i] ?? "";
                    engine.Predict(row, ref scored);
                    if (scored.Score.Length != Outputs)
                    {
                        throw new InvalidDataException($"The baseline gave {scored.Score.Length} values where the model has {Outputs}.");
                    }

                    for (var k = 0; k < Outputs; k++)
                    {
                        output[i * Outputs + k] = scored.Score[k];
                    }
                }
            }
            finally
            {
                Return(_classEngines, engine);
            }

            return;
        }

        var regression = Rent(_valueEngines);
        try
        {
            var row = new TextRow();
            var scored = new ValueScore();
            for (var i = 0; i < texts.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                row.Text = texts[i] ?? "";
                regression.Predict(row, ref scored);
                output[i] = scored.Score;
            }
        }
        finally
        {
            Return(_valueEngines, regression);
        }
    }

    private PredictionEngine<TextRow, T> Rent<T>(ConcurrentBag<PredictionEngine<TextRow, T>> pool)
        where T : class, new() =>
        pool.TryTake(out var engine) ? engine : _ml.Model.CreatePredictionEngine<TextRow, T>(_model, ignoreMissingColumns: true);

    private static void Return<T>(ConcurrentBag<PredictionEngine<TextRow, T>> pool, PredictionEngine<TextRow, T> engine)
        where T : class, new()
    {
        if (pool.Count < PoolSize)
        {
            pool.Add(engine);
        }
        else
        {
            engine.Dispose();
        }
    }

    /// <summary>
    /// Text → Features. ML.NET's featurizer produces word 1-2-grams and character 3-grams (TF-IDF); its character
    /// extractor takes one length (or all lengths from 1), so the 4- and 5-grams come from the same normalised
    /// characters through their own n-gram transforms. Each block is L2-normalised, then concatenated.
    /// </summary>
    private static EstimatorChain<ColumnConcatenatingTransformer> Featurizer(MLContext ml)
    {
        var options = new TextFeaturizingEstimator.Options
        {
            CaseMode = TextNormalizingEstimator.CaseMode.Lower,
            KeepDiacritics = false,
            KeepPunctuations = true,
            KeepNumbers = true,
            WordFeatureExtractor = new WordBagEstimator.Options
            {
                NgramLength = 2,
                UseAllLengths = true,
                MaximumNgramsCount = [MaxWordNgrams, MaxWordNgrams],
                Weighting = NgramExtractingEstimator.WeightingCriteria.TfIdf,
            },
            CharFeatureExtractor = new WordBagEstimator.Options
            {
                NgramLength = 3,
                UseAllLengths = false,
                MaximumNgramsCount = [MaxCharNgrams],
                Weighting = NgramExtractingEstimator.WeightingCriteria.TfIdf,
            },
            Norm = TextFeaturizingEstimator.NormFunction.L2,
        };
        IEstimator<ITransformer> pipeline = ml.Transforms.Text.FeaturizeText("Ngrams3", options, nameof(TextRow.Text))
            .Append(ml.Transforms.Text.NormalizeText("Normalized", nameof(TextRow.Text), TextNormalizingEstimator.CaseMode.Lower, keepDiacritics: false, keepPunctuations: true, keepNumbers: true))
            .Append(ml.Transforms.Text.TokenizeIntoCharactersAsKeys("Chars", "Normalized", useMarkerCharacters: true));
        foreach (var n in new[] { 4, 5 })
        {
            pipeline = pipeline
                .Append(ml.Transforms.Text.ProduceNgrams($"Ngrams{n}", "Chars", ngramLength: n, useAllLengths: false, maximumNgramsCount: MaxCharNgrams, weighting: NgramExtractingEstimator.WeightingCriteria.TfIdf))
                .Append(ml.Transforms.NormalizeLpNorm($"Ngrams{n}"));
        }

        return pipeline.Append(ml.Transforms.Concatenate("Features", "Ngrams3", "Ngrams4", "Ngrams5"));
    }

    private sealed class TextRow
    {
        public string Text { get; set; } = "";
    }

    private sealed class ClassRow
    {
        public string Text { get; set; } = "";

        public uint Label { get; set; }
    }

    private sealed class ValueRow
    {
        public string Text { get; set; } = "";

        public float Label { get; set; }
    }

    private sealed class ClassScore
    {
        public float[] Score { get; set; } = [];
    }

    private sealed class ValueScore
    {
        public float Score { get; set; }
    }
}
