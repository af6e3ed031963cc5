namespace Lasthope.Factors;

/// <summary>An item by index with its score; lists of these are ordered best first.</summary>
/// <param name="Item">Index into the model's <see cref="IdMap"/> of items.</param>
/// <param name="Score">For recommendations the predicted preference x_u . y_i; for similar items the cosine; for popularity the share of (segment) users who used the item.</param>
public readonly record struct ScoredItem(int Item, float Score);

/// <summary>An item by id with its score.</summary>
public readonly record struct Recommendation(string ItemId, float Score);
