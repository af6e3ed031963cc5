using System.ComponentModel.DataAnnotations;

namespace Lasthope.Server.Configuration;

/// <summary>The recommender endpoints (section <c>Lasthope:Recommend</c>).</summary>
public sealed class RecommendOptions : IValidatableObject
{
    /// <summary>The surface of POST /v1/recommend when a request names none; models are activated per surface.</summary>
    public string DefaultSurface { get; init; } = "recommend";

    /// <summary>Items returned when a request gives no count. Default 10.</summary>
    public int DefaultCount { get; init; } = 10;

    /// <summary>Most items a request may ask for. Default 1,000.</summary>
    public int MaxCount { get; init; } = 1_000;

    /// <summary>End-to-end budget, in milliseconds. Default 80, as for /v1/rank.</summary>
    public double BudgetMs { get; init; } = 80;

    /// <summary>A user's latest interactions read from the store, for fold-in and for filtering seen items. Default 200.</summary>
    public int MaxUserEvents { get; init; } = 200;

    /// <summary>Days of events the popularity lists count. Default 30.</summary>
    public double PopularityWindowDays { get; init; } = 30;

    /// <summary>How often the popularity lists are rebuilt from the store. Default 60 s.</summary>
    public double PopularityRefreshSeconds { get; init; } = 60;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!ConfiguredName.IsValid(DefaultSurface))
        {
            yield return new ValidationResult("Recommend:DefaultSurface must be a surface name: 1 to 64 letters, digits, '_', '.', ':' or '-'.", [nameof(DefaultSurface)]);
        }

        if (DefaultCount < 1 || MaxCount < DefaultCount || MaxUserEvents < 0)
        {
            yield return new ValidationResult("Recommend: 1 <= DefaultCount <= MaxCount, MaxUserEvents >= 0.", [nameof(DefaultCount)]);
            yield break;
        }

        if (!double.IsFinite(BudgetMs) || BudgetMs <= 0 || !double.IsFinite(PopularityWindowDays) || PopularityWindowDays <= 0 || !double.IsFinite(PopularityRefreshSeconds) || PopularityRefreshSeconds < 1)
        {
            yield return new ValidationResult("Recommend: BudgetMs, PopularityWindowDays must be positive and PopularityRefreshSeconds at least 1.", [nameof(BudgetMs)]);
            yield break;
        }
    }
}
