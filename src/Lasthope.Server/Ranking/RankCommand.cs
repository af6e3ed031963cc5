using Lasthope.Server.Api;
using Lasthope.Server.Hosting;

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

    /// <summary>Request-supplied features per candidate (null where none), parallel to <see cref="CandidateIds"/>.</summary>
    public required IReadOnlyDictionary<string, double>?[] CandidateFeatures { get; init; }

    public required int Count { get; init; }

    public int? RerankDepth { get; init; }

    public double? BudgetMs { get; init; }
}

/// <summary>Turns a <see cref="RankRequest"/> into a <see cref="RankCommand"/>, or into errors keyed by field.</summary>
public static class RankRequestValidator
{
    private const int MaxIdLength = 256;

    public static RankCommand? Validate(RankRequest request, RankingOptions options, Func<string> newRequestId, out Dictionary<string, string[]> errors)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(newRequestId);
        errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (request.RequestId is { } rid && (rid.Length == 0 || rid.Length > MaxIdLength))
        {
            errors["requestId"] = [$"requestId must be 1 to {MaxIdLength} characters when given."];
        }

        if (request.Surface is { } surface && (surface.Length == 0 || surface.Length > 64))
        {
            errors["surface"] = ["surface must be 1 to 64 characters when given."];
        }

        if (request.User is null)
        {
            errors["user"] = ["user is required: {\"id\": ..., \"age\"?, \"gender\"?, \"segment\"?}."];
        }
        else
        {
            if (string.IsNullOrEmpty(request.User.Id) || request.User.Id.Length > MaxIdLength)
            {
                errors["user.id"] = [$"user.id is required, 1 to {MaxIdLength} characters."];
            }

            if (request.User.Age is < 0 or > 150)
            {
                errors["user.age"] = ["user.age must be between 0 and 150."];
            }
        }

        var candidates = request.Candidates;
        if (candidates is null)
        {
            errors["candidates"] = ["candidates is required: a non-empty array of item ids or {\"id\", \"features\"} objects."];
        }
        else if (candidates.Count == 0)
        {
            errors["candidates"] = ["candidates must not be empty."];
        }
        else if (candidates.Count > options.MaxCandidates)
        {
            errors["candidates"] = [$"candidates has {candidates.Count} entries; the limit is {options.MaxCandidates} (Ranking:MaxCandidates)."];
        }
        else
        {
            for (var i = 0; i < candidates.Count; i++)
            {
                if (candidates[i] is null || string.IsNullOrEmpty(candidates[i].Id) || candidates[i].Id.Length > MaxIdLength)
                {
                    errors[$"candidates[{i}]"] = [$"a candidate needs an id of 1 to {MaxIdLength} characters."];
                    break;
                }
            }
        }

        if (request.Count is < 1)
        {
            errors["count"] = ["count must be at least 1."];
        }

        if (request.RerankDepth is < 0)
        {
            errors["rerankDepth"] = ["rerankDepth must not be negative."];
        }

        if (request.BudgetMs is { } budget && (!double.IsFinite(budget) || budget <= 0 || budget > 60_000))
        {
            errors["budgetMs"] = ["budgetMs must be a finite number of milliseconds in (0, 60000]."];
        }

        if (errors.Count > 0)
        {
            return null;
        }

        var exclude = request.Exclude is { Count: > 0 } ? new HashSet<string>(request.Exclude.Where(e => e is not null), StringComparer.Ordinal) : null;
        var seen = new HashSet<string>(candidates!.Count, StringComparer.Ordinal);
        var ids = new List<string>(candidates.Count);
        var features = new List<IReadOnlyDictionary<string, double>?>(candidates.Count);
        foreach (var candidate in candidates)
        {
            if ((exclude is null || !exclude.Contains(candidate.Id)) && seen.Add(candidate.Id))
            {
                ids.Add(candidate.Id);
                features.Add(candidate.Features);
            }
        }

        return new RankCommand
        {
            RequestId = request.RequestId ?? newRequestId(),
            Surface = request.Surface ?? "default",
            UserId = request.User!.Id,
            Age = request.User.Age,
            Gender = request.User.Gender,
            ExplicitSegment = request.User.Segment,
            CandidateIds = [.. ids],
            CandidateFeatures = [.. features],
            Count = request.Count ?? options.DefaultCount,
            RerankDepth = request.RerankDepth,
            BudgetMs = request.BudgetMs,
        };
    }
}
