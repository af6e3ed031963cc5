namespace Lasthope.Text;

/// <summary>What a text model predicts.</summary>
public enum TextTask
{
    /// <summary>One of several classes: a probability per class.</summary>
    Classify,

    /// <summary>A number (for example an edit rate).</summary>
    Regress,
}

/// <summary>Which family of a text model answered: the sentence encoder with its head, or the TF-IDF baseline.</summary>
public enum TextFamily
{
    /// <summary>Word and character n-gram TF-IDF with a linear model: cheap, and the last hope.</summary>
    Baseline,

    /// <summary>The sentence encoder's vectors with a linear or tree head.</summary>
    Encoder,
}

/// <summary>
/// One family's scorer of a text model: thread-safe, and bounded in the work one call does (the caller bounds the
/// number and length of the texts).
/// </summary>
public interface ITextScorer
{
    TextFamily Family { get; }

    /// <summary>
    /// Scores a batch: <paramref name="output"/> holds texts.Count x <see cref="TextModel.Outputs"/> values, row-major:
    /// the probability of each class in class order (classify), or the value (regress).
    /// </summary>
    void Score(IReadOnlyList<string> texts, Span<double> output, CancellationToken cancellationToken = default);
}
