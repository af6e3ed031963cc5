using System.Buffers;
using System.Numerics.Tensors;

namespace Lasthope.Factors;

/// <summary>What a model was trained with and how far it got.</summary>
/// <param name="Options">The hyperparameters (Threads is how it ran, not part of the model).</param>
/// <param name="IterationsTrained">Iterations run.</param>
/// <param name="FinalLoss">The normalized loss after the last iteration (see <see cref="AlsIterationReport.Loss"/>); NaN when not computed.</param>
public sealed record AlsTrainingInfo(AlsOptions Options, int IterationsTrained, double FinalLoss);

/// <summary>Factors folded in for a user the model was not trained on.</summary>
/// <param name="Factors">The user's vector x_u (length <see cref="AlsModel.Factors"/>).</param>
/// <param name="SeenItems">The model items among the interactions, sorted and distinct: pass them as seen to filter them out.</param>
/// <param name="UnknownItems">Interactions on items the model does not know, which could not count.</param>
public sealed record FoldInResult(float[] Factors, int[] SeenItems, int UnknownItems)
{
    /// <summary>True when no interaction was on a known item: the factors are zero and carry no signal.</summary>
    public bool IsEmpty => SeenItems.Length == 0;
}

/// <summary>
/// A trained implicit-feedback ALS model: user factors X (users x f) and item factors Y (items x f) in one space, where
/// the predicted preference of user u for item i is x_u . y_i. Immutable and safe to share between threads; the
/// scoring paths allocate nothing per call beyond pooled buffers (the string-id conveniences allocate their result).
/// </summary>
/// <remarks>
/// Serving sketch: a known user is <c>model.Users.TryGetIndex(id, out u)</c> then
/// <see cref="Recommend(int, Span{ScoredItem}, ReadOnlySpan{int}, bool)"/>; an unknown user with interactions is
/// <see cref="FoldIn(IEnumerable{KeyValuePair{string, float}})"/> then
/// <see cref="Recommend(ReadOnlySpan{float}, Span{ScoredItem}, ReadOnlySpan{int}, ReadOnlySpan{int})"/> with the folded
/// user's <see cref="FoldInResult.SeenItems"/>; a user with nothing known is a <see cref="PopularityModel"/> case.
/// </remarks>
public sealed class AlsModel
{
    private readonly FactorMatrix _users;
    private readonly FactorMatrix _items;
    private readonly int[] _seenStart;
    private readonly int[] _seenItems;
    private readonly int[] _itemUserCounts;
    private readonly float[] _a0;
    private readonly float[] _itemInverseNorms;
    private readonly Lazy<uint> _fingerprint;

    internal AlsModel(IdMap users, IdMap items, FactorMatrix userFactors, FactorMatrix itemFactors, float regularization, CsrMatrix? seen, int[] itemUserCounts, AlsTrainingInfo training)
        : this(users, items, userFactors, itemFactors, regularization, seen?.RowStartArray ?? new int[users.Count + 1], seen?.IndicesArray ?? [], itemUserCounts, training)
    {
    }

    internal AlsModel(IdMap users, IdMap items, FactorMatrix userFactors, FactorMatrix itemFactors, float regularization, int[] seenStart, int[] seenItems, int[] itemUserCounts, AlsTrainingInfo training, uint? knownFingerprint = null)
    {
        Users = users;
        Items = items;
        _users = userFactors;
        _items = itemFactors;
        Regularization = regularization;
        _seenStart = seenStart;
        _seenItems = seenItems;
        _itemUserCounts = itemUserCounts;
        Training = training;

        _a0 = new float[itemFactors.Stride * itemFactors.Stride];
        AlsTrainer.Gram(itemFactors, regularization, _a0, Environment.ProcessorCount);
        _itemInverseNorms = new float[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            var norm = TensorPrimitives.Norm(itemFactors.Row(i));
            _itemInverseNorms[i] = norm > 0 ? 1f / norm : 0f;
        }

        // A loaded model already knows its checksum (the trailer it was verified against); a trained one computes it once.
        _fingerprint = knownFingerprint is { } known
            ? new Lazy<uint>(known)
            : new Lazy<uint>(() => AlsModelFormat.ComputeChecksum(this), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The users the model was trained on (row i of X is user i).</summary>
    public IdMap Users { get; }

    /// <summary>The catalogue (row i of Y is item i).</summary>
    public IdMap Items { get; }

    /// <summary>Dimension f of the factors.</summary>
    public int Factors => _items.Factors;

    /// <summary>The lambda the model was trained with; the fold-in solve uses it too.</summary>
    public float Regularization { get; }

    /// <summary>Hyperparameters, iterations and final loss.</summary>
    public AlsTrainingInfo Training { get; }

    /// <summary>
    /// CRC-32C of the model's serialized form (<see cref="AlsModelFormat"/>): two models with the same fingerprint hold
    /// the same ids, factors and metadata. Computed once, on first use.
    /// </summary>
    public uint Fingerprint => _fingerprint.Value;

    /// <summary>A short version label for responses and logs: <c>als-</c> and the fingerprint in hex.</summary>
    public string Version => $"als-{Fingerprint:x8}";

    internal FactorMatrix UserMatrix => _users;

    internal FactorMatrix ItemMatrix => _items;

    internal ReadOnlySpan<int> SeenStart => _seenStart;

    internal ReadOnlySpan<int> AllSeenItems => _seenItems;

    /// <summary>True when the model kept each training user's items (for filtering seen items).</summary>
    public bool HasSeenItems => _seenItems.Length > 0;

    /// <summary>x_u, the factors of user <paramref name="user"/> (an index into <see cref="Users"/>).</summary>
    public ReadOnlySpan<float> UserFactors(int user) => _users.Row(user);

    /// <summary>y_i, the factors of item <paramref name="item"/> (an index into <see cref="Items"/>).</summary>
    public ReadOnlySpan<float> ItemFactors(int item) => _items.Row(item);

    /// <summary>The items user <paramref name="user"/> had in training, as sorted item indices (empty if not kept).</summary>
    public ReadOnlySpan<int> SeenItems(int user) => _seenItems.AsSpan(_seenStart[user], _seenStart[user + 1] - _seenStart[user]);

    /// <summary>Per item, how many training users had a positive interaction with it (the overall popularity).</summary>
    public ReadOnlySpan<int> ItemUserCounts => _itemUserCounts;

    /// <summary>The predicted preference x . y_i.</summary>
    public float Score(ReadOnlySpan<float> userFactors, int item)
    {
        CheckFactors(userFactors);
        return TensorPrimitives.Dot(userFactors, _items.Row(item));
    }

    /// <summary>
    /// The best <c>destination.Length</c> items for a training user, best first, by x_u . y_i over every item
    /// (brute force, O(items x f)).
    /// </summary>
    /// <param name="user">Index into <see cref="Users"/>.</param>
    /// <param name="destination">Receives the list; its length is the count asked.</param>
    /// <param name="exclude">Item indices never to return (any order; unknown indices are ignored).</param>
    /// <param name="filterSeen">Leave out the items the user had in training.</param>
    /// <returns>How many items were written: fewer than asked only when the catalogue runs out.</returns>
    public int Recommend(int user, Span<ScoredItem> destination, ReadOnlySpan<int> exclude = default, bool filterSeen = true)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)user, (uint)Users.Count, nameof(user));
        var query = ArrayPool<float>.Shared.Rent(_items.Stride);
        try
        {
            _users.PaddedRow(user).CopyTo(query);
            var seen = filterSeen ? SeenItems(user) : default;
            return TopKScan.Select(new TopKScan.DotScorer(_items, query, null, 1f), Items.Count, seen, exclude, destination);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(query);
        }
    }

    /// <summary>
    /// The best <c>destination.Length</c> items for arbitrary user factors (a folded-in user, or any vector in the
    /// space), best first.
    /// </summary>
    /// <param name="userFactors">A vector of length <see cref="Factors"/>.</param>
    /// <param name="destination">Receives the list; its length is the count asked.</param>
    /// <param name="exclude">Item indices never to return.</param>
    /// <param name="seen">The user's items to filter out (for example <see cref="FoldInResult.SeenItems"/>); empty to keep them.</param>
    public int Recommend(ReadOnlySpan<float> userFactors, Span<ScoredItem> destination, ReadOnlySpan<int> exclude = default, ReadOnlySpan<int> seen = default)
    {
        CheckFactors(userFactors);
        var query = ArrayPool<float>.Shared.Rent(_items.Stride);
        try
        {
            query.AsSpan(0, _items.Stride).Clear();
            userFactors.CopyTo(query);
            return TopKScan.Select(new TopKScan.DotScorer(_items, query, null, 1f), Items.Count, seen, exclude, destination);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(query);
        }
    }

    /// <summary>Recommendations for a training user by id; allocates the result.</summary>
    /// <exception cref="KeyNotFoundException">The user is not in the model (fold in, or use popularity).</exception>
    public IReadOnlyList<Recommendation> Recommend(string userId, int count, IEnumerable<string>? exclude = null, bool filterSeen = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var user = Users.GetIndex(userId);
        var excluded = ToIndices(exclude);
        var buffer = new ScoredItem[count];
        var n = Recommend(user, buffer, excluded, filterSeen);
        return ToRecommendations(buffer.AsSpan(0, n));
    }

    /// <summary>
    /// The <c>destination.Length</c> items most similar to <paramref name="item"/> by cosine of their factors, best
    /// first, never the item itself. Items with zero factors (never seen in training) score 0.
    /// </summary>
    public int Similar(int item, Span<ScoredItem> destination, ReadOnlySpan<int> exclude = default)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)item, (uint)Items.Count, nameof(item));
        var query = ArrayPool<float>.Shared.Rent(_items.Stride);
        try
        {
            _items.PaddedRow(item).CopyTo(query);
            ReadOnlySpan<int> self = [item];
            return TopKScan.Select(new TopKScan.DotScorer(_items, query, _itemInverseNorms, _itemInverseNorms[item]), Items.Count, self, exclude, destination);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(query);
        }
    }

    /// <summary>Similar items by id; allocates the result.</summary>
    /// <exception cref="KeyNotFoundException">The item is not in the model.</exception>
    public IReadOnlyList<Recommendation> Similar(string itemId, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var buffer = new ScoredItem[count];
        var n = Similar(Items.GetIndex(itemId), buffer);
        return ToRecommendations(buffer.AsSpan(0, n));
    }

    /// <summary>
    /// Folds in a user the model has not seen: the exact solution, with the item factors fixed, of the user's normal
    /// equations (Y^T Y + Y^T (C_u - I) Y + lambda I) x_u = Y^T C_u p_u, by Cholesky, with Y^T Y + lambda I precomputed
    /// once per model. O(n f^2 + f^3) for n interactions; about 40 microseconds at f = 64 and n = 20. It is what a
    /// retrain's user half-step with the exact solver would give this user.
    /// </summary>
    /// <param name="items">Item indices (distinct; any order).</param>
    /// <param name="weights">Summed event weight r per item (confidence and preference come from the model's training options).</param>
    /// <param name="destination">Receives x_u, length <see cref="Factors"/>.</param>
    public void FoldIn(ReadOnlySpan<int> items, ReadOnlySpan<float> weights, Span<float> destination)
    {
        if (items.Length != weights.Length)
        {
            throw new ArgumentException($"{items.Length} items but {weights.Length} weights.", nameof(weights));
        }

        if (destination.Length < Factors)
        {
            throw new ArgumentException($"Destination holds {destination.Length} floats; the model has {Factors} factors.", nameof(destination));
        }

        var stride = _items.Stride;
        var f = Factors;
        var confidence = ArrayPool<float>.Shared.Rent(Math.Max(1, items.Length));
        var work = ArrayPool<float>.Shared.Rent(stride * stride);
        var solve = ArrayPool<double>.Shared.Rent((f * f) + f);
        try
        {
            for (var j = 0; j < items.Length; j++)
            {
                ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)items[j], (uint)Items.Count, nameof(items));
                confidence[j] = Training.Options.ConfidenceMinusOne(weights[j]);
            }

            AlsKernels.SolveExact(destination[..f], _items, _a0, items, confidence.AsSpan(0, items.Length), work, solve);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(confidence);
            ArrayPool<float>.Shared.Return(work);
            ArrayPool<double>.Shared.Return(solve);
        }
    }

    /// <summary>
    /// Folds in a user from (item id, weight) pairs, as listed in a request or read from the event store; repeated
    /// items are summed, unknown items are counted and skipped.
    /// </summary>
    public FoldInResult FoldIn(IEnumerable<KeyValuePair<string, float>> interactions)
    {
        ArgumentNullException.ThrowIfNull(interactions);
        var summed = new Dictionary<int, float>();
        var unknown = 0;
        foreach (var (itemId, weight) in interactions)
        {
            if (Items.TryGetIndex(itemId, out var item))
            {
                summed[item] = summed.GetValueOrDefault(item) + weight;
            }
            else
            {
                unknown++;
            }
        }

        var items = summed.Where(kv => kv.Value != 0).Select(kv => kv.Key).Order().ToArray();
        var weights = items.Select(i => summed[i]).ToArray();
        var factors = new float[Factors];
        FoldIn(items, weights, factors);
        return new FoldInResult(factors, items, unknown);
    }

    /// <summary>Writes the model in the versioned binary format (see <see cref="AlsModelFormat"/>).</summary>
    public void Save(Stream stream) => AlsModelFormat.Write(this, stream);

    /// <summary>Writes the model to a file, atomically (a temporary file renamed over the target).</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var temporary = path + ".tmp-" + Environment.ProcessId;
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            Save(stream);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads a model written by <see cref="Save(Stream)"/>.</summary>
    /// <exception cref="InvalidDataException">Not a model, an unsupported version, truncated, or corrupt (the message says which).</exception>
    public static AlsModel Load(Stream stream) => AlsModelFormat.Read(stream);

    /// <summary>Reads a model file.</summary>
    public static AlsModel Load(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Load(stream);
    }

    /// <summary>
    /// Builds a model from factors computed elsewhere (for example imported from benfred/implicit), row-major.
    /// </summary>
    /// <param name="users">User ids; row i of <paramref name="userFactors"/> is user i.</param>
    /// <param name="items">Item ids; row i of <paramref name="itemFactors"/> is item i.</param>
    /// <param name="factors">Dimension f.</param>
    /// <param name="userFactors">users x f values.</param>
    /// <param name="itemFactors">items x f values.</param>
    /// <param name="options">Hyperparameters (regularization and confidence are used by fold-in; Iterations is recorded as trained).</param>
    /// <param name="seenItems">Per user, the item indices to filter as seen; null for none.</param>
    public static AlsModel Create(IdMap users, IdMap items, int factors, ReadOnlySpan<float> userFactors, ReadOnlySpan<float> itemFactors, AlsOptions options, IReadOnlyList<int[]>? seenItems = null)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(options);
        options = options with { Factors = factors };
        options.Validate();
        if (userFactors.Length != (long)users.Count * factors || itemFactors.Length != (long)items.Count * factors)
        {
            throw new ArgumentException($"Expected {users.Count} x {factors} user and {items.Count} x {factors} item values.");
        }

        var x = new FactorMatrix(users.Count, factors);
        var y = new FactorMatrix(items.Count, factors);
        for (var u = 0; u < users.Count; u++)
        {
            userFactors.Slice(u * factors, factors).CopyTo(x.Row(u));
        }

        for (var i = 0; i < items.Count; i++)
        {
            itemFactors.Slice(i * factors, factors).CopyTo(y.Row(i));
        }

        var seenStart = new int[users.Count + 1];
        var seen = new List<int>();
        var counts = new int[items.Count];
        if (seenItems is not null)
        {
            if (seenItems.Count != users.Count)
            {
                throw new ArgumentException($"{seenItems.Count} seen lists for {users.Count} users.", nameof(seenItems));
            }

            for (var u = 0; u < users.Count; u++)
            {
                foreach (var i in seenItems[u].Distinct().Order())
                {
                    ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)i, (uint)items.Count, nameof(seenItems));
                    seen.Add(i);
                    counts[i]++;
                }

                seenStart[u + 1] = seen.Count;
            }
        }

        return new AlsModel(users, items, x, y, options.Regularization, seenStart, [.. seen], counts, new AlsTrainingInfo(options, options.Iterations, double.NaN));
    }

    private int[] ToIndices(IEnumerable<string>? ids)
    {
        if (ids is null)
        {
            return [];
        }

        var list = new List<int>();
        foreach (var id in ids)
        {
            if (Items.TryGetIndex(id, out var i))
            {
                list.Add(i);
            }
        }

        return [.. list];
    }

    private Recommendation[] ToRecommendations(ReadOnlySpan<ScoredItem> scored)
    {
        var result = new Recommendation[scored.Length];
        for (var k = 0; k < scored.Length; k++)
        {
            result[k] = new Recommendation(Items[scored[k].Item], scored[k].Score);
        }

        return result;
    }

    private void CheckFactors(ReadOnlySpan<float> userFactors)
    {
        if (userFactors.Length != Factors)
        {
            throw new ArgumentException($"Got {userFactors.Length} factors; the model has {Factors}.", nameof(userFactors));
        }
    }
}
