namespace Lasthope.Factors;

/// <summary>
/// The user x item implicit-feedback matrix R: a cell holds the summed weight r of a user's events on an item, and is
/// absent where the user never used the item. Rows are users (<see cref="ByUser"/>); the transpose
/// (<see cref="ByItem"/>) is built once on first use. Immutable and thread-safe.
/// </summary>
public sealed class InteractionMatrix
{
    private readonly Lazy<CsrMatrix> _byItem;

    public InteractionMatrix(IdMap users, IdMap items, CsrMatrix byUser)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(byUser);
        if (byUser.RowCount != users.Count || byUser.ColumnCount != items.Count)
        {
            throw new ArgumentException($"A {byUser.RowCount} x {byUser.ColumnCount} matrix does not fit {users.Count} users and {items.Count} items.", nameof(byUser));
        }

        Users = users;
        Items = items;
        ByUser = byUser;
        _byItem = new Lazy<CsrMatrix>(byUser.Transpose, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public IdMap Users { get; }

    public IdMap Items { get; }

    /// <summary>Rows are users, columns items.</summary>
    public CsrMatrix ByUser { get; }

    /// <summary>Rows are items, columns users.</summary>
    public CsrMatrix ByItem => _byItem.Value;

    /// <summary>Distinct (user, item) cells.</summary>
    public int NonZeros => ByUser.NonZeros;

    /// <summary>Builds the matrix from (user, item, weight) triples; repeated pairs are summed.</summary>
    public static InteractionMatrix FromInteractions(IEnumerable<(string User, string Item, float Weight)> interactions)
    {
        ArgumentNullException.ThrowIfNull(interactions);
        var builder = new InteractionLogBuilder();
        foreach (var (user, item, weight) in interactions)
        {
            builder.Add(user, item, weight);
        }

        return builder.Build().ToMatrix();
    }
}
