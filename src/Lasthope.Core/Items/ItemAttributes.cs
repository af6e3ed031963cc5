namespace Lasthope.Core.Items;

/// <summary>
/// What is known of an item besides its interactions: a category and numeric attributes (a price, a length, an
/// age in days...). Models use them as features (<c>item.NAME</c>, and the user's clicks in the item's category).
/// </summary>
/// <param name="ItemId">The item's id.</param>
/// <param name="Category">Its category, when it has one.</param>
/// <param name="Numbers">Its numeric attributes by name; every value finite.</param>
/// <param name="UpdatedAt">When these were last set (the server's clock): a later write replaces them whole.</param>
public sealed record ItemAttributes(string ItemId, string? Category, IReadOnlyDictionary<string, double> Numbers, DateTimeOffset UpdatedAt);

/// <summary>The rule for attribute names, shared by the API, the importer and the surfaces' settings.</summary>
public static class ItemAttributeNames
{
    /// <summary>The most numeric attributes one item may carry.</summary>
    public const int MaxPerItem = 64;

    /// <summary>The rule, in words, for messages.</summary>
    public const string Rule = "1 to 64 letters, digits or '_', starting with a letter";

    public static bool IsValid(string? name) =>
        name is { Length: >= 1 and <= 64 } && char.IsAsciiLetter(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
