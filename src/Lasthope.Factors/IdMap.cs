using System.Collections;

namespace Lasthope.Factors;

/// <summary>
/// A bijection between external string ids (users, items) and dense indices 0..Count-1, in first-seen order.
/// Immutable once built and safe to read from any number of threads. Lookups by <see cref="ReadOnlySpan{T}"/> of
/// chars do not allocate.
/// </summary>
public sealed class IdMap : IReadOnlyList<string>
{
    private readonly string[] _ids;
    private readonly Dictionary<string, int> _index;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _spanIndex;

    private IdMap(string[] ids, Dictionary<string, int> index)
    {
        _ids = ids;
        _index = index;
        _spanIndex = index.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>An empty map.</summary>
    public static IdMap Empty { get; } = Create([]);

    /// <summary>Builds a map whose index i is <paramref name="ids"/>[i].</summary>
    /// <exception cref="ArgumentException">An id is null or appears twice.</exception>
    public static IdMap Create(IEnumerable<string> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var array = ids.ToArray();
        var index = new Dictionary<string, int>(array.Length, StringComparer.Ordinal);
        for (var i = 0; i < array.Length; i++)
        {
            if (array[i] is null)
            {
                throw new ArgumentException($"Id at index {i} is null.", nameof(ids));
            }

            if (!index.TryAdd(array[i], i))
            {
                throw new ArgumentException($"Id '{array[i]}' appears more than once.", nameof(ids));
            }
        }

        return new IdMap(array, index);
    }

    /// <summary>Wraps a builder's list and dictionary without copying (they must not change afterwards).</summary>
    internal static IdMap Adopt(List<string> ids, Dictionary<string, int> index) => new([.. ids], index);

    public int Count => _ids.Length;

    /// <summary>The id at <paramref name="index"/>.</summary>
    public string this[int index] => _ids[index];

    /// <summary>The index of <paramref name="id"/>, or false when the id is unknown.</summary>
    public bool TryGetIndex(string id, out int index) => _index.TryGetValue(id, out index);

    /// <summary>The index of <paramref name="id"/> without allocating a string, or false when unknown.</summary>
    public bool TryGetIndex(ReadOnlySpan<char> id, out int index) => _spanIndex.TryGetValue(id, out index);

    /// <summary>The index of <paramref name="id"/>.</summary>
    /// <exception cref="KeyNotFoundException">The id is unknown.</exception>
    public int GetIndex(string id) =>
        _index.TryGetValue(id, out var index) ? index : throw new KeyNotFoundException($"Unknown id '{id}'.");

    public bool Contains(string id) => _index.ContainsKey(id);

    public IEnumerator<string> GetEnumerator() => ((IEnumerable<string>)_ids).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
