using Lasthope.Server.Configuration;

namespace Lasthope.Server.Ranking;

/// <summary>A validated rank request: candidates deduplicated (first occurrence wins) and exclusions removed.</summary>
public sealed record RankCommand
{
    public required string RequestId { get; init; }

    public required string Surface { get; init; }

    public string? UserId { get; init; }

    public int? Age { get; init; }

    public string? Gender { get; init; }

    public string? ExplicitSegment { get; init; }

    /// <summary>Candidate ids in request order.</summary>
    public required string[] CandidateIds { get; init; }

    /// <summary>
    /// Request-supplied features per candidate (null where none), parallel to <see cref="CandidateIds"/>; empty when no
    /// candidate has any (read it through <see cref="FeaturesOf"/>).
    /// </summary>
    public required IReadOnlyDictionary<string, double>?[] CandidateFeatures { get; init; }

    /// <summary>The request's features of candidate <paramref name="index"/>, or null.</summary>
    public IReadOnlyDictionary<string, double>? FeaturesOf(int index) => CandidateFeatures.Length == 0 ? null : CandidateFeatures[index];

    public required int Count { get; init; }

    public int? RerankDepth { get; init; }

    public double? BudgetMs { get; init; }

    /// <summary>
    /// The request's event time, on a server whose clock follows event time (<see cref="State.EventClock"/>): the clock
    /// moves to it when it is later, and the ranking is logged and counted at it.
    /// </summary>
    public DateTimeOffset? EventTime { get; init; }
}
