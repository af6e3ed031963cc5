using System.Text.Json;
using System.Text.Json.Serialization;
using Lasthope.Core.Identifiers;

namespace Lasthope.Text;

/// <summary>Why a text model package cannot be loaded; the message says what is wrong. Every load failure is this type.</summary>
public sealed class TextModelException : Exception
{
    public TextModelException(string message)
        : base(message)
    {
    }

    public TextModelException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A text model: the TF-IDF baseline (always, the last hope) and optionally the encoder's head, in one package.
/// <para>
/// Format <c>lasthope-text/1</c>: one UTF-8 JSON document,
/// <c>{"format":"lasthope-text/1","name":N,"task":"classify"|"regress","classes":[...],"budgetMs":20,
/// "baseline":BASE64,"encoder":{"name":E,"dimensions":D,"bias":[...],"weights":[...]}|null}</c>, where
/// <c>baseline</c> is ML.NET's model zip of <see cref="TfIdfBaseline"/>, <c>classes</c> is empty for a regression,
/// and the encoder's head holds <c>outputs</c> biases and <c>outputs x D</c> row-major weights. The encoder's name
/// must be the host encoder's <see cref="ITextEncoder.Name"/>: a head is meaningless over another encoder's vectors.
/// </para>
/// Loaded, it is immutable and its scorers are thread-safe.
/// </summary>
public sealed class TextModel
{
    public const string Format = "lasthope-text/1";

    /// <summary>Classes at most.</summary>
    public const int MaxClasses = 1_000;

    /// <summary>An encoder's dimensions at most.</summary>
    public const int MaxDimensions = 4_096;

    /// <summary>A package's size at most.</summary>
    public const int MaxBytes = 256 << 20;

    /// <summary>The largest |weight| or |bias| of a head: beyond it a softmax saturates and a regression overflows.</summary>
    public const double MaxWeight = 1e6;

    private readonly TfIdfBaseline _baseline;
    private readonly byte[] _baselineBytes;

    private TextModel(string name, TextTask task, IReadOnlyList<string> classes, int budgetMs, TfIdfBaseline baseline, byte[] baselineBytes, string? encoderName, LinearHead? head, ITextEncoder? encoder)
    {
        Name = name;
        Task = task;
        Classes = classes;
        BudgetMs = budgetMs;
        _baseline = baseline;
        _baselineBytes = baselineBytes;
        EncoderName = encoderName;
        Head = head;
        Encoder = head is not null && encoder is not null ? new EncoderScorer(encoder, head) : null;
    }

    /// <summary>The model's name (POST /v1/text/NAME), by the id rule.</summary>
    public string Name { get; }

    public TextTask Task { get; }

    /// <summary>The class names in output order; empty for a regression.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Values per text: the class count, or 1.</summary>
    public int Outputs => Task == TextTask.Classify ? Classes.Count : 1;

    /// <summary>The encoder's budget per request, in milliseconds; past it the baseline answers.</summary>
    public int BudgetMs { get; }

    /// <summary>The encoder the head was trained on, or null when the package has no head.</summary>
    public string? EncoderName { get; }

    /// <summary>The encoder's head, or null.</summary>
    public LinearHead? Head { get; }

    public ITextScorer Baseline => _baseline;

    /// <summary>The encoder family, or null when the package has no head or the host gave no encoder.</summary>
    public ITextScorer? Encoder { get; }

    /// <summary>Assembles a model from trained parts (<see cref="TextTraining"/>).</summary>
    public static TextModel Create(string name, TextTask task, IReadOnlyList<string> classes, int budgetMs, TfIdfBaseline baseline, LinearHead? head, ITextEncoder? encoder)
    {
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(baseline);
        if (head is not null && encoder is null)
        {
            throw new ArgumentException("A head needs the encoder it was trained on.", nameof(encoder));
        }

        var model = new TextModel(name, task, [.. classes], budgetMs, baseline, baseline.ToBytes(), encoder?.Name, head, encoder);
        if (Problem(model.ToDocument()) is { } problem)
        {
            throw new ArgumentException(problem, nameof(name));
        }

        return model;
    }

    /// <summary>True when <paramref name="content"/> looks like a text model package (a JSON object naming the format near its start).</summary>
    public static bool IsPackage(ReadOnlySpan<byte> content)
    {
        var head = content[..Math.Min(content.Length, 256)];
        return head.TrimStart(" \t\r\n"u8).StartsWith("{"u8) && head.IndexOf("lasthope-text/"u8) >= 0;
    }

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(ToDocument(), TextModelJson.Default.TextModelDocument);

    /// <summary>
    /// Reads a package and loads its baseline (which must score a text) and, when <paramref name="encoder"/> is given
    /// and the package has a head, the encoder family.
    /// </summary>
    /// <exception cref="TextModelException">Anything malformed, unbounded or inconsistent, or an encoder other than the head's.</exception>
    public static TextModel Load(ReadOnlySpan<byte> content, ITextEncoder? encoder)
    {
        if (content.Length > MaxBytes)
        {
            throw new TextModelException($"The package is {content.Length:N0} bytes; the limit is {MaxBytes:N0}.");
        }

        TextModelDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(content, TextModelJson.Default.TextModelDocument);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            throw new TextModelException($"The package is not a {Format} document: {e.Message}", e);
        }

        if (document is null)
        {
            throw new TextModelException($"The package is not a {Format} document: it is null.");
        }

        if (Problem(document) is { } problem)
        {
            throw new TextModelException(problem);
        }

        var task = document.Task == "classify" ? TextTask.Classify : TextTask.Regress;
        var outputs = task == TextTask.Classify ? document.Classes!.Count : 1;
        var head = document.Encoder is { } e1 ? new LinearHead(task, e1.Dimensions, e1.Bias!, e1.Weights!) : null;
        if (head is not null && encoder is not null)
        {
            if (!string.Equals(encoder.Name, document.Encoder!.Name, StringComparison.Ordinal))
            {
                throw new TextModelException($"The head was trained on encoder '{document.Encoder.Name}'; this host's encoder is '{encoder.Name}'.");
            }

            if (encoder.Dimensions != head.Dimensions)
            {
                throw new TextModelException($"The head takes {head.Dimensions} dimensions; the encoder gives {encoder.Dimensions}.");
            }
        }

        byte[] zip;
        try
        {
            zip = Convert.FromBase64String(document.Baseline!);
        }
        catch (FormatException e)
        {
            throw new TextModelException("The baseline is not base64.", e);
        }

        TfIdfBaseline baseline;
        try
        {
            baseline = TfIdfBaseline.Load(zip, task, outputs);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new TextModelException($"The baseline does not load as an ML.NET text model: {e.Message}", e);
        }

        return new TextModel(document.Name!, task, document.Classes!, document.BudgetMs, baseline, zip, document.Encoder?.Name, head, encoder);
    }

    private TextModelDocument ToDocument() => new()
    {
        Format = Format,
        Name = Name,
        Task = Task == TextTask.Classify ? "classify" : "regress",
        Classes = [.. Classes],
        BudgetMs = BudgetMs,
        Baseline = Convert.ToBase64String(_baselineBytes),
        Encoder = Head is null ? null : new EncoderHeadDocument { Name = EncoderName, Dimensions = Head.Dimensions, Bias = Head.Bias, Weights = Head.Weights },
    };

    /// <summary>What makes a document unusable, or null.</summary>
    private static string? Problem(TextModelDocument d)
    {
        if (d.Format != Format)
        {
            return $"The format is '{Ids.Printable(d.Format ?? "")}', not {Format}.";
        }

        if (Ids.Problem(d.Name) is { } name)
        {
            return $"name {name}.";
        }

        if (d.Task is not ("classify" or "regress"))
        {
            return $"task must be classify or regress, not '{Ids.Printable(d.Task ?? "")}'.";
        }

        if (d.Classes is null || d.Classes.Count > MaxClasses)
        {
            return $"classes must be a list of at most {MaxClasses} names.";
        }

        if (d.Task == "classify" && d.Classes.Count < 2)
        {
            return "A classifier needs at least 2 classes.";
        }

        if (d.Task == "regress" && d.Classes.Count > 0)
        {
            return "A regression has no classes.";
        }

        for (var i = 0; i < d.Classes.Count; i++)
        {
            if (Ids.Problem(d.Classes[i]) is { } bad)
            {
                return $"classes[{i}] {bad}.";
            }
        }

        if (d.Classes.Distinct(StringComparer.Ordinal).Count() != d.Classes.Count)
        {
            return "A class name repeats.";
        }

        if (d.BudgetMs is < 1 or > 60_000)
        {
            return "budgetMs must be 1 to 60000.";
        }

        if (string.IsNullOrEmpty(d.Baseline))
        {
            return "The package has no baseline.";
        }

        if (d.Encoder is { } e)
        {
            var outputs = d.Task == "classify" ? d.Classes.Count : 1;
            if (Ids.Problem(e.Name) is { } encoderName)
            {
                return $"encoder.name {encoderName}.";
            }

            if (e.Dimensions is < 1 or > MaxDimensions)
            {
                return $"encoder.dimensions must be 1 to {MaxDimensions}.";
            }

            if (e.Bias is null || e.Bias.Length != outputs)
            {
                return $"encoder.bias must hold {outputs} values.";
            }

            if (e.Weights is null || e.Weights.Length != (long)outputs * e.Dimensions)
            {
                return $"encoder.weights must hold {outputs} x {e.Dimensions} values.";
            }

            if (e.Bias.Concat(e.Weights).Any(w => !double.IsFinite(w) || Math.Abs(w) > MaxWeight))
            {
                return $"encoder weights must be finite and at most {MaxWeight:G} in size.";
            }
        }

        return null;
    }
}

/// <summary>The package's JSON.</summary>
internal sealed class TextModelDocument
{
    public string? Format { get; set; }

    public string? Name { get; set; }

    public string? Task { get; set; }

    public List<string>? Classes { get; set; }

    public int BudgetMs { get; set; } = 20;

    public string? Baseline { get; set; }

    public EncoderHeadDocument? Encoder { get; set; }
}

internal sealed class EncoderHeadDocument
{
    public string? Name { get; set; }

    public int Dimensions { get; set; }

    public double[]? Bias { get; set; }

    public double[]? Weights { get; set; }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(TextModelDocument))]
internal sealed partial class TextModelJson : JsonSerializerContext;
