using System.Buffers;
using Lasthope.Evaluation;

namespace Lasthope.Factors;

/// <summary>
/// ALS for evaluation users the model was trained on: <see cref="EvaluationUser.User"/> is the model's user index,
/// and the list leaves out the user's training items and <see cref="EvaluationUser.Known"/>. Thread-safe.
/// </summary>
public sealed class AlsKnownUserRecommender(AlsModel model) : ITopKRecommender
{
    public string Name => "als";

    public int Recommend(EvaluationUser user, Span<int> destination)
    {
        ArgumentNullException.ThrowIfNull(user);
        var buffer = ArrayPool<ScoredItem>.Shared.Rent(destination.Length);
        try
        {
            var n = model.Recommend(user.User, buffer.AsSpan(0, destination.Length), user.Known, filterSeen: true);
            for (var k = 0; k < n; k++)
            {
                destination[k] = buffer[k].Item;
            }

            return n;
        }
        finally
        {
            ArrayPool<ScoredItem>.Shared.Return(buffer);
        }
    }
}

/// <summary>
/// ALS for evaluation users unseen in training: the exact fold-in of their known items (those the model knows), as
/// production serves them, then the top items without the known ones. Thread-safe.
/// </summary>
public sealed class AlsFoldInRecommender(AlsModel model) : ITopKRecommender
{
    public string Name => "als";

    public int Recommend(EvaluationUser user, Span<int> destination)
    {
        ArgumentNullException.ThrowIfNull(user);
        var items = new List<int>(user.Known.Length);
        var weights = new List<float>(user.Known.Length);
        for (var k = 0; k < user.Known.Length; k++)
        {
            if (user.Known[k] < model.Items.Count)
            {
                items.Add(user.Known[k]);
                weights.Add(user.KnownWeights[k]);
            }
        }

        var known = items.ToArray();
        var factors = new float[model.Factors];
        model.FoldIn(known, weights.ToArray(), factors);
        var buffer = ArrayPool<ScoredItem>.Shared.Rent(destination.Length);
        try
        {
            var n = model.Recommend(factors, buffer.AsSpan(0, destination.Length), default, known);
            for (var k = 0; k < n; k++)
            {
                destination[k] = buffer[k].Item;
            }

            return n;
        }
        finally
        {
            ArrayPool<ScoredItem>.Shared.Return(buffer);
        }
    }
}

/// <summary>The popularity baseline (overall list), never recommending a user's known items. Thread-safe.</summary>
public sealed class PopularityRecommender(PopularityModel popularity) : ITopKRecommender
{
    public string Name => "popular";

    public int Recommend(EvaluationUser user, Span<int> destination)
    {
        ArgumentNullException.ThrowIfNull(user);
        var buffer = ArrayPool<ScoredItem>.Shared.Rent(destination.Length);
        try
        {
            var n = popularity.TopN(null, buffer.AsSpan(0, destination.Length), user.Known);
            for (var k = 0; k < n; k++)
            {
                destination[k] = buffer[k].Item;
            }

            return n;
        }
        finally
        {
            ArrayPool<ScoredItem>.Shared.Return(buffer);
        }
    }
}

/// <summary>
/// The evaluation protocol for a given train/test split of known users: the model trains on the training log, and
/// every test user it knows is evaluated on their test items that were not in their training part, with the training
/// items excluded from the lists (<see cref="EvaluationUser.FromTrainTest"/>). Score with
/// <see cref="AlsKnownUserRecommender"/> and <see cref="PopularityRecommender"/>.
/// </summary>
public static class KnownUserProtocol
{
    /// <summary>Builds the training matrix and the evaluation users.</summary>
    /// <param name="train">The training log.</param>
    /// <param name="test">
    /// The test log, read with the training log's user and item maps (<c>new InteractionLogBuilder(train.Users,
    /// train.Items)</c>) so that shared ids share indices and new ones come after.
    /// </param>
    /// <exception cref="ArgumentException">The test log's ids do not extend the training log's.</exception>
    public static (InteractionMatrix Train, KnownUserSplit Split) Create(InteractionLog train, InteractionLog test)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        if (!Extends(test.Users, train.Users) || !Extends(test.Items, train.Items))
        {
            throw new ArgumentException("The test log must be read with the training log's user and item maps.", nameof(test));
        }

        return (train.ToMatrix(), EvaluationUser.FromTrainTest(train.UserIndices, train.ItemIndices, train.Weights, test.UserIndices, test.ItemIndices));
    }

    /// <summary>Whether <paramref name="extended"/> starts with every id of <paramref name="prefix"/>, at the same indices.</summary>
    internal static bool Extends(IdMap extended, IdMap prefix)
    {
        if (extended.Count < prefix.Count)
        {
            return false;
        }

        for (var i = 0; i < prefix.Count; i++)
        {
            if (!string.Equals(extended[i], prefix[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
