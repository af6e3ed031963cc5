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

        var (ids, features) = Deduplicate(candidates!, request.Exclude);
        return new RankCommand
        {
            RequestId = request.RequestId ?? newRequestId(),
            Surface = surface!,
            UserId = request.User!.Id,
            Age = request.User.Age,
            Gender = request.User.Gender,
            ExplicitSegment = request.User.Segment,
            CandidateIds = ids,
            CandidateFeatures = features,
            Count = request.Count ?? options.DefaultCount,
            RerankDepth = request.RerankDepth,
            BudgetMs = request.BudgetMs,
        };
    }

    /// <summary>The dedup set of this thread, reused: a request's set of 1,000 ids would otherwise be its largest allocation.</summary>
    [ThreadStatic]
    private static HashSet<string>? _seen;

    /// <summary>
    /// The candidates' ids and features, first occurrence of each id kept, excluded ids removed, written straight into
    /// arrays of the right length (trimmed only when something was dropped). A request whose candidates carry no
    /// features gets an empty feature array (see <see cref="RankCommand.CandidateFeatures"/>).
    /// </summary>
    private static (string[] Ids, IReadOnlyDictionary<string, double>?[] Features) Deduplicate(IReadOnlyList<CandidateDto> candidates, IReadOnlyList<string>? exclude)
    {
        var seen = _seen ??= new HashSet<string>(StringComparer.Ordinal);
        seen.Clear();
        if (exclude is { Count: > 0 })
        {
            foreach (var id in exclude)
            {
                seen.Add(id); // an excluded id counts as already seen
            }
        }

        var ids = new string[candidates.Count];
        var features = new IReadOnlyDictionary<string, double>?[candidates.Count]; // dropped below when all are null
        var kept = 0;
        var anyFeatures = false;
        foreach (var candidate in candidates)
        {
            if (seen.Add(candidate.Id))
            {
                ids[kept] = candidate.Id;
                features[kept] = candidate.Features;
                anyFeatures |= candidate.Features is not null;
                kept++;
            }
        }

        // A set grown by one huge request is not kept for every later one.
        if (seen.Count > 16_384)
        {
            _seen = null;
        }
        else
        {
            seen.Clear();
        }

        return (kept == ids.Length ? ids : ids[..kept], !anyFeatures ? [] : kept == features.Length ? features : features[..kept]);
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
