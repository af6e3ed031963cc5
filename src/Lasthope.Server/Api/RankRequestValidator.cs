using Lasthope.Core.Identifiers;
using Lasthope.Server.Cascade;
using Lasthope.Server.Configuration;
using Lasthope.Server.Ranking;

namespace Lasthope.Server.Api;

/// <summary>Turns a <see cref="RankRequest"/> into a <see cref="RankCommand"/>, or into errors keyed by field.</summary>
public static class RankRequestValidator
{
    public static RankCommand? Validate(RankRequest request, RankingOptions options, SurfaceCatalog surfaces, Func<string> newRequestId, out Dictionary<string, string[]> errors)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(surfaces);
        ArgumentNullException.ThrowIfNull(newRequestId);
        errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (request.RequestId is not null)
        {
            CheckId(errors, "requestId", request.RequestId);
        }

        var surface = surfaces.Resolve(request.Surface, SurfaceCatalog.Default, out var surfaceProblem);
        if (surfaceProblem is not null)
        {
            errors["surface"] = [surfaceProblem];
        }

        if (request.User is null)
        {
            errors["user"] = ["user is required: {\"id\": ..., \"age\"?, \"gender\"?, \"segment\"?}."];
        }
        else
        {
            CheckId(errors, "user.id", request.User.Id);
            if (request.User.Age is < 0 or > 150)
            {
                errors["user.age"] = ["user.age must be between 0 and 150."];
            }

            if (request.User.Gender is { Length: > 32 })
            {
                errors["user.gender"] = ["user.gender is at most 32 characters."];
            }

            if (request.User.Segment is not null)
            {
                CheckId(errors, "user.segment", request.User.Segment, 64);
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
                if (CheckId(errors, $"candidates[{i}]", candidates[i]?.Id))
                {
                    break; // one bad candidate is named; a list of 10,000 bad ones is not echoed back
                }
            }
        }

        if (request.Exclude is { } exclude)
        {
            if (exclude.Count > options.MaxCandidates)
            {
                errors["exclude"] = [$"exclude has {exclude.Count} entries; the limit is {options.MaxCandidates} (Ranking:MaxCandidates)."];
            }
            else
            {
                for (var i = 0; i < exclude.Count; i++)
                {
                    if (CheckId(errors, $"exclude[{i}]", exclude[i]))
                    {
                        break;
                    }
                }
            }
        }

        if (request.Count is { } count && (count < 1 || count > options.MaxCount))
        {
            errors["count"] = [$"count must be from 1 to {options.MaxCount} (Ranking:MaxCount)."];
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

        var excluded = request.Exclude is { Count: > 0 } ? new HashSet<string>(request.Exclude, StringComparer.Ordinal) : null;
        var seen = new HashSet<string>(candidates!.Count, StringComparer.Ordinal);
        var ids = new List<string>(candidates.Count);
        var features = new List<IReadOnlyDictionary<string, double>?>(candidates.Count);
        foreach (var candidate in candidates)
        {
            if ((excluded is null || !excluded.Contains(candidate.Id)) && seen.Add(candidate.Id))
            {
                ids.Add(candidate.Id);
                features.Add(candidate.Features);
            }
        }

        return new RankCommand
        {
            RequestId = request.RequestId ?? newRequestId(),
            Surface = surface!,
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

    /// <summary>Adds an error for <paramref name="field"/> when <paramref name="value"/> is not an acceptable id; true when it did.</summary>
    public static bool CheckId(Dictionary<string, string[]> errors, string field, string? value, int maxLength = Ids.MaxLength)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (Ids.Problem(value, maxLength) is not { } problem)
        {
            return false;
        }

        errors[field] = [$"{field} {problem} (ids are 1 to {maxLength} characters without control characters)."];
        return true;
    }
}
