using Lasthope.Core.Serving;

namespace Lasthope.Server.Cascade;

/// <summary>
/// Counts, over a sliding window of one-second buckets, the requests that were meant to be served by a model and how
/// many of them fell back. Their ratio is the fallback rate exported as a metric and watched by /health/ready.
/// </summary>
public sealed class FallbackWindow(int seconds, TimeProvider time)
{
    private readonly long[] _second = new long[seconds];
    private readonly int[] _modelPath = new int[seconds];
    private readonly int[] _fallbacks = new int[seconds];
    private readonly Lock _gate = new();

    public void Record(ServedBy servedBy)
    {
        if (servedBy == ServedBy.Heuristic)
        {
            return; // no model was meant to serve: not part of the rate
        }

        var now = time.GetUtcNow().ToUnixTimeSeconds();
        lock (_gate)
        {
            var slot = (int)(now % seconds);
            if (_second[slot] != now)
            {
                _second[slot] = now;
                _modelPath[slot] = 0;
                _fallbacks[slot] = 0;
            }

            _modelPath[slot]++;
            if (servedBy == ServedBy.HeuristicFallback)
            {
                _fallbacks[slot]++;
            }
        }
    }

    /// <summary>Model-path requests and fallbacks within the window.</summary>
    public (int ModelPath, int Fallbacks) Totals()
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        lock (_gate)
        {
            int total = 0, fallbacks = 0;
            for (var i = 0; i < seconds; i++)
            {
                if (now - _second[i] < seconds)
                {
                    total += _modelPath[i];
                    fallbacks += _fallbacks[i];
                }
            }

            return (total, fallbacks);
        }
    }

    /// <summary>Fallbacks over model-path requests in the window; 0 when there were none.</summary>
    public double Rate
    {
        get
        {
            var (total, fallbacks) = Totals();
            return total == 0 ? 0 : (double)fallbacks / total;
        }
    }
}
