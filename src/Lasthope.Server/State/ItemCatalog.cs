using System.Collections.Concurrent;
using Lasthope.Core.Items;

namespace Lasthope.Server.State;

/// <summary>
/// The item attributes in memory, loaded from the store at start and kept current by <c>POST /v1/items</c>: what
/// the feature rows read (<c>item.NAME</c>, and the categories of a user's clicks). Bounded: past
/// <see cref="Capacity"/> items a batch that adds new ones is refused whole; updates of known items always pass. Of
/// each item's attributes it keeps only those some surface uses (<paramref name="kept"/>; the store keeps all), so
/// memory grows with the catalog, not with what clients send.
/// </summary>
public sealed class ItemCatalog(int capacity = 1_000_000, IReadOnlySet<string>? kept = null)
{
    private readonly ConcurrentDictionary<string, ItemAttributes> _items = new(StringComparer.Ordinal);
    private readonly Lock _writes = new();

    public int Capacity => capacity;

    public int Count => _items.Count;

    public ItemAttributes? Find(string itemId) => _items.GetValueOrDefault(itemId);

    /// <summary>How many of <paramref name="items"/> the catalog does not hold yet.</summary>
    public int NewCount(IReadOnlyList<ItemAttributes> items) => items.Select(i => i.ItemId).Distinct(StringComparer.Ordinal).Count(id => !_items.ContainsKey(id));

    /// <summary>Sets the items (a later write of an item replaces it whole); false, and nothing set, when the new ones would exceed the capacity.</summary>
    public bool TrySet(IReadOnlyList<ItemAttributes> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        lock (_writes)
        {
            if (_items.Count + NewCount(items) > capacity)
            {
                return false;
            }

            foreach (var item in items)
            {
                _items[item.ItemId] = kept is null ? item : item with { Numbers = item.Numbers.Where(n => kept.Contains(n.Key)).ToDictionary(StringComparer.Ordinal) };
            }

            return true;
        }
    }
}
