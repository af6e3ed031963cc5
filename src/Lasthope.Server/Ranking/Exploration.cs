using Lasthope.Core.Events;
using Lasthope.Server.Cascade;
using Lasthope.Server.Configuration;

namespace Lasthope.Server.Ranking;

/// <summary>
/// The exploration policy (<see cref="ExplorationOptions"/>): a uniform shuffle of the top n positions on a fraction ε
/// of requests. Which requests, and their shuffles, follow from a hash of the request id, so a replayed request gets
/// the same list. Each served item gets its propensity under the whole policy (explored or not), the probability of
/// seeing it where it is: the denominators of inverse-propensity weights.
/// </summary>
public static class Exploration
{
    /// <summary>The arm's exploration when it has one, else the surface's; null when neither explores.</summary>
    public static ExplorationOptions? For(SurfaceOptions surface, ArmOptions? arm)
    {
        ArgumentNullException.ThrowIfNull(surface);
        var options = arm?.Exploration ?? surface.Exploration;
        return options is { Fraction: > 0 } ? options : null;
    }

    /// <summary>
    /// Applies the policy to <paramref name="served"/> in place (positions renumbered, propensities set); returns
    /// whether this request was explored.
    /// </summary>
    public static bool Apply(ServedItem[] served, ExplorationOptions? options, string requestId)
    {
        ArgumentNullException.ThrowIfNull(served);
        var n = Math.Min(options?.Top ?? 0, served.Length);
        if (options is null || n < 2)
        {
            return false;
        }

        var epsilon = options.Fraction;
        var stay = (1 - epsilon) + (epsilon / n);
        var move = epsilon / n;
        var explored = StableHash.Uniform(requestId, "explore") < epsilon;
        if (explored)
        {
            // Fisher-Yates (Durstenfeld 1964) with draws from the request id's hash: uniform over the n! orders.
            for (var i = n - 1; i > 0; i--)
            {
                var j = (int)(StableHash.Uniform(requestId, "shuffle", i) * (i + 1));
                (served[i], served[j]) = (served[j], served[i]);
            }
        }

        for (var p = 0; p < n; p++)
        {
            var item = served[p];
            served[p] = item with { Position = p + 1, Propensity = item.Position == p + 1 ? stay : move };
        }

        return explored;
    }
}
