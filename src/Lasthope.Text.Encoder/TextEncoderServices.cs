using Microsoft.Extensions.DependencyInjection;

namespace Lasthope.Text.Encoder;

/// <summary>
/// The MiniLM encoder as a host's <see cref="ITextEncoder"/>, created on its first use: the ONNX session (and, for
/// int8, the quantisation) takes about a second and 60-90 MB, which a server with no text model should not pay.
/// </summary>
public sealed class LazyMiniLmEncoder(MiniLmPrecision precision = MiniLmPrecision.Quantised, int intraOpThreads = 1) : ITextEncoder, IDisposable
{
    private readonly Lazy<MiniLmEncoder> _encoder = new(() => new MiniLmEncoder(precision, intraOpThreads), LazyThreadSafetyMode.ExecutionAndPublication);

    public string Name => MiniLmEncoder.NameOf(precision);

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
    /// <param name="settings">
    /// The encoder's precision and the threads of one call, read from the host's services when the encoder is first
    /// resolved; null for int8 on 1 thread (concurrent requests on a small machine then do not fight over its cores;
    /// docs/performance.md has 1 against 2).
    /// </param>
    public static IServiceCollection AddMiniLmEncoder(this IServiceCollection services, Func<IServiceProvider, (MiniLmPrecision Precision, int IntraOpThreads)>? settings = null) =>
        services.AddSingleton<ITextEncoder>(sp =>
        {
            var (precision, threads) = settings?.Invoke(sp) ?? (MiniLmPrecision.Quantised, 1);
            return new LazyMiniLmEncoder(precision, threads);
        });
}
