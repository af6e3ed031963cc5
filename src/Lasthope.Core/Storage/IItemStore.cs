using Lasthope.Core.Items;

namespace Lasthope.Core.Storage;

/// <summary>The item catalog: attributes per item, the latest write of an item replacing the earlier. The embedded store implements it too.</summary>
public interface IItemStore
{
    /// <summary>Writes the items durably (replacing what each had) before returning.</summary>
    Task UpsertItemsAsync(IReadOnlyList<ItemAttributes> items, CancellationToken cancellationToken = default);

    /// <summary>Every item with attributes, in no particular order.</summary>
    IAsyncEnumerable<ItemAttributes> ReadItemsAsync(CancellationToken cancellationToken = default);
}
