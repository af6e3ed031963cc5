namespace Lasthope.Evaluation;

/// <summary>One user of a top-k evaluation.</summary>
/// <param name="User">The user's index in the training data (or in the fold-in set, for users unseen in training).</param>
/// <param name="Known">Distinct item indices the recommender may know about the user (its training part), sorted; they are never relevant and never count as hits.</param>
/// <param name="KnownWeights">Summed event weight per known item, aligned with <paramref name="Known"/>.</param>
/// <param name="Relevant">Distinct held-out item indices, sorted; an index at or past the catalogue size is an item unknown to training (it counts in |test| but no recommender can hit it).</param>
public sealed record EvaluationUser(int User, int[] Known, float[] KnownWeights, int[] Relevant)
{
    /// <summary>
    /// Builds the evaluation users from a log and its test flags: per user, the training part's distinct items (with
    /// summed weights) are known and the test part's distinct items are relevant. Users without a test item are left
    /// out: they have nothing to find.
    /// </summary>
    public static IReadOnlyList<EvaluationUser> FromSplit(ReadOnlySpan<int> users, ReadOnlySpan<int> items, ReadOnlySpan<float> weights, ReadOnlySpan<bool> isTest)
    {
        if (users.Length != items.Length || users.Length != isTest.Length || (!weights.IsEmpty && weights.Length != users.Length))
        {
            throw new ArgumentException("Per-event arrays differ in length.");
        }

        var known = new Dictionary<int, Dictionary<int, float>>();
        var relevant = new Dictionary<int, SortedSet<int>>();
        for (var k = 0; k < users.Length; k++)
        {
            var w = weights.IsEmpty ? 1f : weights[k];
            if (isTest[k])
            {
                if (!relevant.TryGetValue(users[k], out var set))
                {
                    relevant[users[k]] = set = [];
                }

                set.Add(items[k]);
            }
            else
            {
                if (!known.TryGetValue(users[k], out var map))
                {
                    known[users[k]] = map = [];
                }

                map[items[k]] = map.GetValueOrDefault(items[k]) + w;
            }
        }

        var result = new List<EvaluationUser>(relevant.Count);
        foreach (var user in relevant.Keys.Order())
        {
            var map = known.GetValueOrDefault(user) ?? [];
            var knownItems = map.Keys.Order().ToArray();
            var knownWeights = knownItems.Select(i => map[i]).ToArray();
            var test = relevant[user].Where(i => !map.ContainsKey(i)).ToArray();
            if (test.Length > 0)
            {
                result.Add(new EvaluationUser(user, knownItems, knownWeights, test));
            }
        }

        return result;
    }
}

/// <summary>A recommender under evaluation. Implementations must be safe to call from several threads at once.</summary>
public interface ITopKRecommender
{
    /// <summary>A short name for reports (als, popular).</summary>
    string Name { get; }

    /// <summary>
    /// Writes up to <c>destination.Length</c> distinct item indices for <paramref name="user"/>, best first, none of
    /// them in <see cref="EvaluationUser.Known"/>; returns how many were written.
    /// </summary>
    int Recommend(EvaluationUser user, Span<int> destination);
}
