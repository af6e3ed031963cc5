using System.Text.Json;
using System.Text.Json.Serialization;
using Lasthope.Trees;

namespace Lasthope.Text.EditNeed;

/// <summary>One unit of a document with its predicted edit rate.</summary>
/// <param name="Index">The unit's position in the document, from 0.</param>
/// <param name="Paragraph">The paragraph it is in, from 0.</param>
/// <param name="Start">Where its span starts in the document (UTF-16 code units).</param>
/// <param name="Length">Its span's length, trailing whitespace included.</param>
/// <param name="Text">The unit's text (the span trimmed).</param>
/// <param name="Rate">The predicted word-level edit rate (0 or more).</param>
/// <param name="Highlighted">Whether it is among the document's top <see cref="EditNeedModel.HighlightShare"/> by predicted rate.</param>
public sealed record EditNeedUnitPrediction(int Index, int Paragraph, int Start, int Length, string Text, double Rate, bool Highlighted);

/// <summary>A document's units with their predictions.</summary>
/// <param name="Units">In document order.</param>
/// <param name="UsedEncoder">Whether the encoder's vectors were used (else the text features only).</param>
/// <param name="Note">Why the encoder was not used, when it was not and the model has an encoder part.</param>
public sealed record EditNeedPrediction(IReadOnlyList<EditNeedUnitPrediction> Units, bool UsedEncoder, string? Note);

/// <summary>The content given to <see cref="EditNeedModel.Load"/> is not a valid edit-need model.</summary>
public sealed class EditNeedModelException : Exception
{
    public EditNeedModelException()
    {
    }

    public EditNeedModelException(string message)
        : base(message)
    {
    }

    public EditNeedModelException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Serves edit need: a document in, each unit (paragraph or sentence, <see cref="Level"/>) with its predicted
/// word-level edit rate (<see cref="EditRate"/>) and the top <see cref="HighlightShare"/> of the document's units
/// highlighted. Two LightGBM regressors inside: one on the text features (<see cref="EditNeedFeatures"/>), always
/// there, and optionally one on the text features followed by the encoder's vector, used when the model is loaded with
/// the encoder it was trained with. Immutable and thread-safe.
/// <para>
/// The format (<see cref="Format"/>) is UTF-8 JSON: <c>format</c>, <c>level</c> (paragraph|sentence),
/// <c>highlightShare</c>, <c>hashBuckets</c>, <c>vocabulary</c> (the lower-cased words of the training documents' edited
/// texts), <c>featureNames</c>, <c>textModel</c> (LightGBM model text), and <c>encoder</c>: null, or <c>name</c>,
/// <c>dimensions</c> and <c>model</c> (LightGBM model text over the text features then the vector).
/// </para>
/// </summary>
public sealed class EditNeedModel
{
    /// <summary>The format name and version written in every model.</summary>
    public const string Format = "lasthope-edit-need/1";

    /// <summary>The largest model read.</summary>
    public const int MaxModelBytes = 64 << 20;

    /// <summary>The longest document predicted, in characters.</summary>
    public const int MaxDocumentChars = 100_000;

    /// <summary>The most paragraphs a document may have.</summary>
    public const int MaxParagraphs = 500;

    /// <summary>The most units (paragraphs or sentences) a document may have.</summary>
    public const int MaxUnits = 2_000;

    private const int MaxVocabulary = 2_000_000;
    private const int MaxHashBuckets = 1 << 16;
    private const int MaxDimensions = 4_096;

    private readonly EditNeedFeatures _features;
    private readonly TreeModel _textModel;
    private readonly TreeModel? _encoderModel;
    private readonly ITextEncoder? _encoder;
    private readonly string _textModelText;
    private readonly string? _encoderModelText;

    private EditNeedModel(EditNeedLevel level, double highlightShare, EditNeedFeatures features, string textModel, EncoderPart? encoderPart, ITextEncoder? encoder)
    {
        Level = level;
        HighlightShare = highlightShare;
        _features = features;
        _textModelText = textModel;
        _textModel = TreeModel.FromLightGbm(textModel);
        if (_textModel.FeatureCount != features.Count)
        {
            throw new EditNeedModelException($"textModel has {_textModel.FeatureCount} features, the text features are {features.Count}.");
        }

        EncoderName = encoderPart?.Name;
        EncoderDimensions = encoderPart?.Dimensions ?? 0;
        if (encoderPart is not null)
        {
            _encoderModelText = encoderPart.Model;
            var model = TreeModel.FromLightGbm(encoderPart.Model);
            if (model.FeatureCount != features.Count + encoderPart.Dimensions)
            {
                throw new EditNeedModelException($"encoder.model has {model.FeatureCount} features, not {features.Count} text features and {encoderPart.Dimensions} dimensions.");
            }

            if (encoder is null)
            {
                Note = $"loaded without an encoder: the text features only ({encoderPart.Name} is not used)";
            }
            else if (encoder.Name != encoderPart.Name || encoder.Dimensions != encoderPart.Dimensions)
            {
                Note = $"the encoder given is {encoder.Name} ({encoder.Dimensions} dimensions), the model's is {encoderPart.Name} ({encoderPart.Dimensions}): the text features only";
            }
            else
            {
                _encoderModel = model;
                _encoder = encoder;
            }
        }
    }

    /// <summary>What a unit is.</summary>
    public EditNeedLevel Level { get; }

    /// <summary>The share of a document's units highlighted (the top by predicted rate, at least one).</summary>
    public double HighlightShare { get; }

    /// <summary>The encoder the model was trained with, or null for a text-features-only model.</summary>
    public string? EncoderName { get; }

    /// <summary>The dimensions of <see cref="EncoderName"/>'s vectors, or 0.</summary>
    public int EncoderDimensions { get; }

    /// <summary>Whether predictions use the encoder (the model has an encoder part and was loaded with that encoder).</summary>
    public bool UsesEncoder => _encoderModel is not null;

    /// <summary>Why the encoder part is not used, or null.</summary>
    public string? Note { get; }

    /// <summary>The text features (names, vocabulary).</summary>
    public EditNeedFeatures Features => _features;

    /// <summary>What is wrong with a document as input, or null when <see cref="Predict"/> takes it.</summary>
    public static string? Problem(string? document, EditNeedLevel level)
    {
        if (document is null)
        {
            return "the document is missing";
        }

        if (document.Length > MaxDocumentChars)
        {
            return $"the document has {document.Length:N0} characters, more than {MaxDocumentChars:N0}";
        }

        var units = EditNeedText.Units(document, level);
        if (units.Count == 0)
        {
            return "the document is blank";
        }

        var paragraphs = units[^1].Paragraph + 1;
        return paragraphs > MaxParagraphs ? $"the document has {paragraphs:N0} paragraphs, more than {MaxParagraphs:N0}"
            : units.Count > MaxUnits ? $"the document has {units.Count:N0} units, more than {MaxUnits:N0}"
            : null;
    }

    /// <summary>Predicts the edit rate of each unit of <paramref name="document"/> and highlights the top share.</summary>
    /// <param name="document">The text; bounded (<see cref="Problem"/>).</param>
    /// <param name="useEncoder">False to use the text features only even when the encoder is there (a caller's last hope).</param>
    /// <param name="cancellationToken">Passed to the encoder and the trees.</param>
    /// <exception cref="ArgumentException">The document is blank or beyond the bounds.</exception>
    public EditNeedPrediction Predict(string document, bool useEncoder = true, CancellationToken cancellationToken = default)
    {
        if (Problem(document, Level) is { } problem)
        {
            throw new ArgumentException(problem + ".", nameof(document));
        }

        var spans = EditNeedText.Units(document, Level);
        var texts = spans.Select(s => document.Substring(s.Start, s.Length).Trim()).ToArray();
        var rates = new double[texts.Length];
        var encoded = useEncoder && _encoderModel is not null;
        Score(texts, rates, encoded, cancellationToken);
        var flags = Highlight(rates, HighlightShare);
        var units = new EditNeedUnitPrediction[texts.Length];
        for (var i = 0; i < units.Length; i++)
        {
            units[i] = new EditNeedUnitPrediction(i, spans[i].Paragraph, spans[i].Start, spans[i].Length, texts[i], rates[i], flags[i]);
        }

        var note = encoded ? null : Note ?? (_encoderModel is not null ? "the encoder was not asked for: the text features only" : null);
        return new EditNeedPrediction(units, encoded, note);
    }

    /// <summary>Predicts the edit rates of one document's units, given as texts in order.</summary>
    public void Score(IReadOnlyList<string> units, Span<double> rates, bool useEncoder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(units);
        if (rates.Length != units.Count)
        {
            throw new ArgumentException($"{units.Count} units need {units.Count} rates.", nameof(rates));
        }

        if (units.Count == 0)
        {
            return;
        }

        var f = _features.Count;
        var text = new double[units.Count * f];
        _features.Fill(units, text);
        if (useEncoder && _encoderModel is not null)
        {
            var vectors = _encoder!.Encode(units, cancellationToken);
            var width = f + EncoderDimensions;
            var rows = new double[units.Count * width];
            for (var i = 0; i < units.Count; i++)
            {
                text.AsSpan(i * f, f).CopyTo(rows.AsSpan(i * width, f));
                var v = vectors[i];
                for (var d = 0; d < EncoderDimensions; d++)
                {
                    rows[(i * width) + f + d] = v[d];
                }
            }

            _encoderModel.Score(rows, rates, cancellationToken);
        }
        else
        {
            _textModel.Score(text, rates, cancellationToken);
        }

        for (var i = 0; i < rates.Length; i++)
        {
            rates[i] = Math.Max(0, rates[i]);
        }
    }

    /// <summary>
    /// The top <paramref name="share"/> of <paramref name="scores"/>: ceil(share * n) units (at least 1 of a non-empty
    /// list) with the highest scores; ties go to the earlier unit.
    /// </summary>
    public static bool[] Highlight(ReadOnlySpan<double> scores, double share)
    {
        var flags = new bool[scores.Length];
        if (scores.Length == 0)
        {
            return flags;
        }

        var k = Math.Clamp((int)Math.Ceiling(share * scores.Length - 1e-9), 1, scores.Length);
        var copy = scores.ToArray();
        var order = Enumerable.Range(0, scores.Length).OrderByDescending(i => copy[i]).ThenBy(i => i).Take(k);
        foreach (var i in order)
        {
            flags[i] = true;
        }

        return flags;
    }

    /// <summary>Builds a model from trained parts (the trainer's output).</summary>
    /// <exception cref="EditNeedModelException">The parts do not fit together.</exception>
    public static EditNeedModel Create(EditNeedLevel level, double highlightShare, EditNeedFeatures features, string textModel, string? encoderName, int encoderDimensions, string? encoderModel, ITextEncoder? encoder)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(textModel);
        return Load(new ModelFile
        {
            Format = Format,
            Level = LevelName(level),
            HighlightShare = highlightShare,
            HashBuckets = features.HashBuckets,
            Vocabulary = [.. features.Vocabulary()],
            FeatureNames = [.. features.Names],
            TextModel = textModel,
            Encoder = encoderModel is null ? null : new EncoderPart { Name = encoderName!, Dimensions = encoderDimensions, Model = encoderModel },
        }, encoder);
    }

    /// <summary>The model as UTF-8 JSON in <see cref="Format"/>.</summary>
    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(new ModelFile
    {
        Format = Format,
        Level = LevelName(Level),
        HighlightShare = HighlightShare,
        HashBuckets = _features.HashBuckets,
        Vocabulary = [.. _features.Vocabulary()],
        FeatureNames = [.. _features.Names],
        TextModel = _textModelText,
        Encoder = _encoderModelText is null ? null : new EncoderPart { Name = EncoderName!, Dimensions = EncoderDimensions, Model = _encoderModelText },
    }, EditNeedJson.Default.ModelFile);

    /// <summary>Reads a model written by <see cref="ToBytes"/>.</summary>
    /// <param name="content">The UTF-8 JSON.</param>
    /// <param name="encoder">The encoder to use with the model's encoder part; null (or another encoder) uses the text features only, and <see cref="Note"/> says so.</param>
    /// <exception cref="EditNeedModelException">The content is not a valid model, whatever is wrong with it.</exception>
    public static EditNeedModel Load(ReadOnlySpan<byte> content, ITextEncoder? encoder)
    {
        if (content.Length > MaxModelBytes)
        {
            throw new EditNeedModelException($"The model has {content.Length:N0} bytes, more than {MaxModelBytes:N0}.");
        }

        ModelFile? file;
        try
        {
            file = JsonSerializer.Deserialize(content, EditNeedJson.Default.ModelFile);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException)
        {
            throw new EditNeedModelException($"Not an edit-need model: {e.Message}", e);
        }

        return Load(file ?? throw new EditNeedModelException("Not an edit-need model: the content is null."), encoder);
    }

    private static EditNeedModel Load(ModelFile file, ITextEncoder? encoder)
    {
        if (file.Format != Format)
        {
            throw new EditNeedModelException($"The format is '{file.Format}', not '{Format}'.");
        }

        EditNeedLevel level = file.Level switch
        {
            "paragraph" => EditNeedLevel.Paragraph,
            "sentence" => EditNeedLevel.Sentence,
            _ => throw new EditNeedModelException($"level must be paragraph or sentence, not '{file.Level}'."),
        };
        if (!(file.HighlightShare is > 0 and <= 1))
        {
            throw new EditNeedModelException("highlightShare must be in (0, 1].");
        }

        if (file.HashBuckets is < 0 or > MaxHashBuckets)
        {
            throw new EditNeedModelException($"hashBuckets must be 0 to {MaxHashBuckets}.");
        }

        if (file.Vocabulary is null || file.Vocabulary.Count > MaxVocabulary || file.Vocabulary.Any(w => string.IsNullOrEmpty(w) || w.Length > 1_000))
        {
            throw new EditNeedModelException($"vocabulary must be a list of at most {MaxVocabulary:N0} non-empty words.");
        }

        var features = new EditNeedFeatures(file.Vocabulary, file.HashBuckets);
        if (file.FeatureNames is null || !file.FeatureNames.SequenceEqual(features.Names, StringComparer.Ordinal))
        {
            throw new EditNeedModelException($"featureNames are not the {features.Count} text features of this version.");
        }

        if (string.IsNullOrEmpty(file.TextModel))
        {
            throw new EditNeedModelException("textModel is missing.");
        }

        if (file.Encoder is { } part && (string.IsNullOrWhiteSpace(part.Name) || part.Name.Length > 200 || part.Dimensions is < 1 or > MaxDimensions || string.IsNullOrEmpty(part.Model)))
        {
            throw new EditNeedModelException($"encoder needs a name, 1 to {MaxDimensions} dimensions and a model.");
        }

        try
        {
            return new EditNeedModel(level, file.HighlightShare, features, file.TextModel, file.Encoder, encoder);
        }
        catch (ModelLoadException e)
        {
            throw new EditNeedModelException($"A tree model inside is not valid: {e.Message}", e);
        }
    }

    internal static string LevelName(EditNeedLevel level) => level == EditNeedLevel.Paragraph ? "paragraph" : "sentence";

    internal sealed class ModelFile
    {
        public string? Format { get; set; }

        public string? Level { get; set; }

        public double HighlightShare { get; set; }

        public int HashBuckets { get; set; }

        public List<string>? Vocabulary { get; set; }

        public List<string>? FeatureNames { get; set; }

        public string? TextModel { get; set; }

        public EncoderPart? Encoder { get; set; }
    }

    internal sealed class EncoderPart
    {
        public string Name { get; set; } = "";

        public int Dimensions { get; set; }

        public string Model { get; set; } = "";
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(EditNeedModel.ModelFile))]
internal sealed partial class EditNeedJson : JsonSerializerContext;
