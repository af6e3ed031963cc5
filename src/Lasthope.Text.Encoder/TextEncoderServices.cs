using Microsoft.Extensions.DependencyInjection;

namespace Lasthope.Text.Encoder;

/// <summary>
/// The MiniLM encoder as a host's <see cref="ITextEncoder"/>, created on its first use: the ONNX session takes about a
/// second and 90 MB, which a server with no text model should not pay.
/// </summary>
public sealed class LazyMiniLmEncoder(int intraOpThreads = 1) : ITextEncoder, IDisposable
{
    private readonly Lazy<MiniLmEncoder> _encoder = new(() => new MiniLmEncoder(intraOpThreads), LazyThreadSafetyMode.ExecutionAndPublication);

    public string Name => MiniLmEncoder.ModelName;

    public int Dimensions => 384;

    public float[][] Encode(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) => _encoder.Value.Encode(texts, cancellationToken);

    public void Dispose()
    {
        if (_encoder.IsValueCreated)
        {
            _encoder.Value.Dispose();
        }
    }
}

public static class TextEncoderServices
{
    /// <summary>Registers all-MiniLM-L6-v2 as the host's sentence encoder (loaded when a text model first needs it).</summary>
    /// <param name="intraOpThreads">
    /// The threads of one encoder call, read from the host's services when the encoder is first resolved; null for 1
    /// (concurrent requests on a small machine then do not fight over its cores; docs/performance.md has 1 against 2).
    /// </param>
    public static IServiceCollection AddMiniLmEncoder(this IServiceCollection services, Func<IServiceProvider, int>? intraOpThreads = null) =>
        services.AddSingleton<ITextEncoder>(sp => new LazyMiniLmEncoder(intraOpThreads?.Invoke(sp) ?? 1));
}
