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

    /// <summary>
    /// The evaluation users of a given train/test split of known users: every test user who also has training
    /// interactions is evaluated, with the items of the training part known (never recommended, never a hit) and the
    /// distinct test items not among them relevant. User and item indices are shared by both parts (build the test
    /// part with the training part's id maps, so that new users and items get indices past them).
    /// </summary>
    /// <param name="trainUsers">User index per training event.</param>
    /// <param name="trainItems">Item index per training event.</param>
    /// <param name="trainWeights">Weight per training event (empty for 1).</param>
    /// <param name="testUsers">User index per test event.</param>
    /// <param name="testItems">Item index per test event.</param>
    /// <returns>The users, and what was left out and why.</returns>
    public static KnownUserSplit FromTrainTest(ReadOnlySpan<int> trainUsers, ReadOnlySpan<int> trainItems, ReadOnlySpan<float> trainWeights, ReadOnlySpan<int> testUsers, ReadOnlySpan<int> testItems)
    {
        if (trainUsers.Length != trainItems.Length || (!trainWeights.IsEmpty && trainWeights.Length != trainUsers.Length) || testUsers.Length != testItems.Length)
        {
            throw new ArgumentException("Per-event arrays differ in length.");
        }

        var n = trainUsers.Length + testUsers.Length;
        var users = new int[n];
        var items = new int[n];
        var weights = new float[n];
        var isTest = new bool[n];
        trainUsers.CopyTo(users);
        trainItems.CopyTo(items);
        if (trainWeights.IsEmpty)
        {
            weights.AsSpan(0, trainUsers.Length).Fill(1f);
        }
        else
        {
            trainWeights.CopyTo(weights);
        }

        testUsers.CopyTo(users.AsSpan(trainUsers.Length));
        testItems.CopyTo(items.AsSpan(trainUsers.Length));
        weights.AsSpan(trainUsers.Length).Fill(1f);
        isTest.AsSpan(trainUsers.Length).Fill(true);

        var trained = new HashSet<int>();
        foreach (var u in trainUsers)
        {
            trained.Add(u);
        }

        var testPairs = new HashSet<(int, int)>();
        var testUserSet = new HashSet<int>();
        for (var k = 0; k < testUsers.Length; k++)
        {
            testPairs.Add((testUsers[k], testItems[k]));
            testUserSet.Add(testUsers[k]);
        }

        var all = FromSplit(users, items, weights, isTest);
        var evaluated = all.Where(u => trained.Contains(u.User)).ToList();
        var newTestPairs = evaluated.Sum(u => u.Relevant.Length) + all.Where(u => !trained.Contains(u.User)).Sum(u => u.Relevant.Length);
        var knownTestUsers = testUserSet.Count(trained.Contains);
        return new KnownUserSplit(
            evaluated,
            UnknownUsers: testUserSet.Count - knownTestUsers,
            UsersWithNothingNew: knownTestUsers - evaluated.Count,
            SeenPairs: testPairs.Count - newTestPairs);
    }
}

/// <summary>The evaluation users of a train/test split of known users (<see cref="EvaluationUser.FromTrainTest"/>).</summary>
/// <param name="Users">Test users with training interactions and at least one test item they had not used in training.</param>
/// <param name="UnknownUsers">Test users with no training interaction: not evaluated (a cold-start protocol would fold them in).</param>
/// <param name="UsersWithNothingNew">Known test users all of whose test items were already in their training part.</param>
/// <param name="SeenPairs">Distinct test (user, item) pairs left out because the user had the item in training.</param>
public sealed record KnownUserSplit(IReadOnlyList<EvaluationUser> Users, int UnknownUsers, int UsersWithNothingNew, int SeenPairs);

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
