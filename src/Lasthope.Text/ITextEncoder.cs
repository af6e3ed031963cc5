namespace Lasthope.Text;

/// <summary>
/// Turns texts into fixed-length vectors (a sentence encoder). The text models depend on this contract only, so that
/// the encoder's weights live in their own assembly (Lasthope.Text.Encoder) and a host without it still serves the
/// TF-IDF baseline.
/// </summary>
public interface ITextEncoder
{
    /// <summary>The encoder's name and version, recorded in a model that depends on it (e.g. <c>all-MiniLM-L6-v2</c>).</summary>
    string Name { get; }

    /// <summary>The length of every vector.</summary>
    int Dimensions { get; }

    /// <summary>One unit-length vector per text, in order; the texts are encoded as one batch.</summary>
    float[][] Encode(IReadOnlyList<string> texts, CancellationToken cancellationToken = default);
}
