using Lasthope.Core.Identifiers;
using Lasthope.Core.Items;
using Lasthope.Core.Storage;
using Lasthope.Server.State;

namespace Lasthope.Server.Ingestion;

/// <summary>One item as a client sent it (nothing checked yet).</summary>
public sealed record ItemInput(string? ItemId, string? Category, IReadOnlyDictionary<string, double>? Numbers);

/// <summary>What a batch of items came to: how many were stored, or why none was.</summary>
/// <param name="Stored">Items now durable in the store and in the catalog.</param>
/// <param name="Errors">When the batch was refused for its content: the problems by field (<c>items[3].category</c>).</param>
/// <param name="CatalogFull">When the batch was refused because its new items exceed the catalog's capacity.</param>
public sealed record ItemIngestResult(int Stored, IReadOnlyDictionary<string, string[]> Errors, bool CatalogFull);

/// <summary>
/// Stores items' attributes (<c>POST /v1/items</c>, <c>lasthope import --items</c>): a batch is checked whole (ids by
/// the one id rule, categories likewise, at most <see cref="ItemAttributeNames.MaxPerItem"/> numeric attributes named
/// by <see cref="ItemAttributeNames"/> with finite values, no id twice), written durably, then set in the catalog;
/// a batch with any problem, or whose new items would not fit the catalog, is refused whole and nothing changes.
/// Writes are serialised, so the capacity check holds.
/// </summary>
public sealed class ItemIngestor(IItemStore store, ItemCatalog catalog, TimeProvider time) : IDisposable
{
    private readonly SemaphoreSlim _writes = new(1, 1);

    public void Dispose() => _writes.Dispose();

    public async Task<ItemIngestResult> StoreAsync(IReadOnlyList<ItemInput?> batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var items = new List<ItemAttributes>(batch.Count);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var now = time.GetUtcNow();
        for (var i = 0; i < batch.Count; i++)
        {
            if (Check(i, batch[i], seen, errors) is { } item)
            {
                items.Add(item with { UpdatedAt = now });
            }
        }

        if (errors.Count > 0)
        {
            return new ItemIngestResult(0, errors, false);
        }

        await _writes.WaitAsync(cancellationToken);
        try
        {
            if (catalog.Count + catalog.NewCount(items) > catalog.Capacity)
            {
                return new ItemIngestResult(0, errors, true);
            }

            await store.UpsertItemsAsync(items, cancellationToken);
            catalog.TrySet(items);
            return new ItemIngestResult(items.Count, errors, false);
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>Why one item is invalid (the first problem, with its field), or null when it is valid.</summary>
    public static string? Problem(ItemInput? input)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        Check(0, input, new Dictionary<string, int>(StringComparer.Ordinal), errors);
        return errors.Count == 0 ? null : $"{errors.First().Key["items[0]".Length..].TrimStart('.')}: {errors.First().Value[0]}".TrimStart(':', ' ');
    }

    private static ItemAttributes? Check(int index, ItemInput? input, Dictionary<string, int> seen, Dictionary<string, string[]> errors)
    {
        var at = $"items[{index}]";
        if (input is null)
        {
            errors[at] = ["the item is null"];
            return null;
        }

        var problems = errors.Count;
        if (Ids.Problem(input.ItemId) is { } idProblem)
        {
            errors[$"{at}.id"] = [idProblem];
        }
        else if (!seen.TryAdd(input.ItemId!, index))
        {
            errors[$"{at}.id"] = [$"'{Ids.Printable(input.ItemId!)}' is also items[{seen[input.ItemId!]}]; send an item once per batch"];
        }

        if (input.Category is not null && Ids.Problem(input.Category) is { } categoryProblem)
        {
            errors[$"{at}.category"] = [categoryProblem];
        }

        var numbers = input.Numbers ?? new Dictionary<string, double>();
        if (numbers.Count > ItemAttributeNames.MaxPerItem)
        {
            errors[$"{at}.attributes"] = [$"{numbers.Count} attributes; at most {ItemAttributeNames.MaxPerItem}"];
        }
        else
        {
            foreach (var (name, value) in numbers)
            {
                if (!ItemAttributeNames.IsValid(name))
                {
                    errors[$"{at}.attributes"] = [$"'{Ids.Printable(name)}' is not an attribute name ({ItemAttributeNames.Rule})"];
                    break;
                }

                if (!double.IsFinite(value))
                {
                    errors[$"{at}.attributes.{name}"] = ["must be a finite number"];
                    break;
                }
            }
        }

        return errors.Count > problems ? null : new ItemAttributes(input.ItemId!, input.Category, new Dictionary<string, double>(numbers, StringComparer.Ordinal), default);
    }
}
