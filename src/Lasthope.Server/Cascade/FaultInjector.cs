using Lasthope.Server.Configuration;

namespace Lasthope.Server.Cascade;

/// <summary>An injected fault, told apart from real ones in logs.</summary>
public sealed class InjectedFaultException(string stage) : Exception($"Injected {stage} error (Lasthope:Serving:FaultInjection).");

/// <summary>
/// Decides, per request and stage, whether to add latency or an error (<see cref="FaultInjectionOptions"/>). The
/// decision is a hash of the request id, the stage and the seed, so a given request is always hit or never, and a
/// fraction f of distinct request ids is hit, give or take sampling error.
/// </summary>
public sealed class FaultInjector(FaultInjectionOptions options)
{
    public bool Enabled => options.Enabled;

    /// <summary>Latency to add to the model stage of this request (zero when none).</summary>
    public TimeSpan ModelLatency(string requestId) =>
        options.ModelLatencyMs > 0 && Hit(requestId, "model-latency", options.ModelLatencyFraction) ? TimeSpan.FromMilliseconds(options.ModelLatencyMs) : TimeSpan.Zero;

    public bool ModelError(string requestId) => Hit(requestId, "model-error", options.ModelErrorFraction);

    /// <summary>Latency to add after each scored block of this request (zero when none): a slow model.</summary>
    public TimeSpan ModelBlockLatency(string requestId) =>
        options.ModelBlockLatencyMs > 0 && Hit(requestId, "model-block-latency", options.ModelBlockLatencyFraction) ? TimeSpan.FromMilliseconds(options.ModelBlockLatencyMs) : TimeSpan.Zero;

    public TimeSpan FeatureLatency(string requestId) =>
        options.FeatureLatencyMs > 0 && Hit(requestId, "feature-latency", options.FeatureLatencyFraction) ? TimeSpan.FromMilliseconds(options.FeatureLatencyMs) : TimeSpan.Zero;

    public bool FeatureError(string requestId) => Hit(requestId, "feature-error", options.FeatureErrorFraction);

    private bool Hit(string requestId, string stage, double fraction) => fraction > 0 && StableHash.Uniform(requestId, stage, options.Seed) < fraction;
}
