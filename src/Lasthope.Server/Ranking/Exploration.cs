using Lasthope.Server.Cascade;
using Lasthope.Server.Configuration;

namespace Lasthope.Server.Ranking;

/// <summary>
/// The exploration policy (<see cref="ExplorationOptions"/>): on a fraction ε of requests, the shown positions
/// 1..m are a uniform random draw, in random order, from the top n' = min(n, candidates) of the list the request
/// would otherwise have shown (m = min(count, n'); positions past n' keep their items). With n above the served
/// count this shows items from deeper in the list, which is what lets a model learn about them. Which requests, and
/// their draws, follow from a hash of the request id, so a replayed request gets the same list.
/// <para>
/// Each shown item gets its propensity under the whole policy (explored or not): the probability of seeing it at that
/// position. A uniform draw puts any of the n' items at a given position with probability 1/n', so an item at the
/// position it would have had anyway has (1 - ε) + ε/n', and any other ε/n'. These are the denominators of
/// inverse-propensity weights (the item-position model of Li et al., "Offline Evaluation of Ranking Policies with
/// Click Models", KDD 2018).
/// </para>
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

    /// <summary>Whether the request with this id falls in the explored fraction (before the candidate count is known).</summary>
    public static bool Explores(ExplorationOptions? options, string requestId) =>
        options is not null && StableHash.Uniform(requestId, "explore") < options.Fraction;

    /// <summary>n' = min(n, candidates): how many leading positions the policy draws from; 0 when it cannot draw (fewer than 2).</summary>
    public static int PoolSize(ExplorationOptions? options, int candidates)
    {
        var n = Math.Min(options?.Top ?? 0, candidates);
        return n >= 2 ? n : 0;
    }

    /// <summary>
    /// Fills <paramref name="drawn"/> (one entry per served position) with the positions, in the unexplored list, of
    /// the items to show: the identity when the request is not explored (or the pool is empty). Returns whether it was.
    /// </summary>
    /// <param name="explored">The request falls in the explored fraction (<see cref="Explores"/>, decided once with its policy).</param>
    /// <param name="pool">n' (<see cref="PoolSize"/>); the unexplored list's sorted prefix must cover it.</param>
    /// <param name="requestId">The hash's key.</param>
    /// <param name="drawn">Receives the drawn positions; its length is the served count.</param>
    public static bool Draw(bool explored, int pool, string requestId, Span<int> drawn)
    {
        for (var p = 0; p < drawn.Length; p++)
        {
            drawn[p] = p;
        }

        if (pool == 0 || !explored)
        {
            return false;
        }

        // A partial Fisher-Yates shuffle (Durstenfeld 1964) of 0..n'-1, with draws from the request id's hash: its
        // first m entries are uniform over the ordered m-subsets of the pool.
        Span<int> order = pool <= 1024 ? stackalloc int[pool] : new int[pool];
        for (var i = 0; i < pool; i++)
        {
            order[i] = i;
        }

        var m = Math.Min(drawn.Length, pool);
        for (var i = 0; i < m; i++)
        {
            var j = i + (int)(StableHash.Uniform(requestId, "shuffle", i) * (pool - i));
            (order[i], order[j]) = (order[j], order[i]);
            drawn[i] = order[i];
        }

        return true;
    }

    /// <summary>The propensity of the item shown at 0-based <paramref name="position"/>, drawn from unexplored position <paramref name="from"/> of a pool of n'.</summary>
    public static double Propensity(ExplorationOptions? options, int pool, int position, int from)
    {
        if (pool == 0 || position >= pool)
        {
            return 1;
        }

        var epsilon = options!.Fraction;
        return from == position ? (1 - epsilon) + (epsilon / pool) : epsilon / pool;
    }
}
