using System.Diagnostics;
using Lasthope.Core.Identifiers;
using Lasthope.Core.Serving;
using Lasthope.Server.Cascade;
using Lasthope.Server.Configuration;
using Lasthope.Server.Ranking;
using Lasthope.Server.Recommend;
using Lasthope.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Lasthope.Server.Api;

/// <summary>One interaction listed in a recommendation request.</summary>
public sealed record InteractionDto(string? ItemId, double? Weight);

/// <summary>POST /v1/recommend.</summary>
public sealed record RecommendRequest
{
    public string? RequestId { get; init; }

    public string? Surface { get; init; }

    public UserDto? User { get; init; }

    public int? Count { get; init; }

    public IReadOnlyList<string>? Exclude { get; init; }

    /// <summary>Leave out items the user already interacted with (default true).</summary>
    public bool? FilterSeen { get; init; }

    /// <summary>The user's interactions, when the server does not hold them (a new client): they are folded in.</summary>
    public IReadOnlyList<InteractionDto>? Interactions { get; init; }

    public double? BudgetMs { get; init; }
}

/// <summary>GET /v1/similar/{item}.</summary>
public sealed record SimilarResponse(string Item, ServedBy ServedBy, string? ModelVersion, IReadOnlyList<RankedItemDto> Items, IReadOnlyDictionary<string, double> Timings);

/// <summary>POST /v1/recommend and GET /v1/similar/{item}.</summary>
public static class RecommendApi
{
    /// <summary>Most interactions a request may list.</summary>
    public const int MaxInteractions = 1_000;

    public static IEndpointRouteBuilder MapRecommendApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/recommend", RecommendAsync)
            .WithName("Recommend")
            .WithSummary("Recommendations for a user: ALS, fold-in, or popularity")
            .WithDescription("A user the active ALS model knows gets its top items; one it does not know but who has interactions (stored or listed) is folded in on the spot; one with nothing known gets the popular items of their segment. Same served-path contract as /v1/rank.")
            .Produces<RankResponse>()
            .WithBodyProblems()
            .RequireScope(Scopes.Rank)
            .ReadsBodyFirst()
            .BehindServingDoor();
        app.MapGet("/similar/{item}", Similar)
            .WithName("Similar")
            .WithSummary("Items nearest to an item by the cosine of their factors")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireScope(Scopes.Rank);
        return app;
    }

    public static async Task<Results<Ok<RankResponse>, ValidationProblem>> RecommendAsync(
        RecommendRequest request, RecommendationService service, RecommendOptions options, RankingOptions ranking, SurfaceCatalog surfaces, HttpContext http, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (request.RequestId is not null)
        {
            RankRequestValidator.CheckId(errors, "requestId", request.RequestId);
        }

        var surface = surfaces.Resolve(request.Surface, options.DefaultSurface, out var surfaceProblem);
        if (surfaceProblem is not null)
        {
            errors["surface"] = [surfaceProblem];
        }

        if (request.User is null)
        {
            errors["user.id"] = ["user.id is required: {\"user\": {\"id\": ..., \"age\"?, \"gender\"?, \"segment\"?}}."];
        }
        else
        {
            RankRequestValidator.CheckId(errors, "user.id", request.User.Id);
            if (request.User.Age is < 0 or > 150)
            {
                errors["user.age"] = ["user.age must be between 0 and 150."];
            }

            if (request.User.Segment is not null)
            {
                RankRequestValidator.CheckId(errors, "user.segment", request.User.Segment, 64);
            }
        }

        if (request.Count is { } count && (count < 1 || count > options.MaxCount))
        {
            errors["count"] = [$"count must be between 1 and {options.MaxCount}."];
        }

        if (request.BudgetMs is { } budget && (!double.IsFinite(budget) || budget <= 0 || budget > 60_000))
        {
            errors["budgetMs"] = ["budgetMs must be a finite number of milliseconds in (0, 60000]."];
        }

        if (request.Exclude is { } exclude)
        {
            if (exclude.Count > ranking.MaxCandidates)
            {
                errors["exclude"] = [$"exclude has {exclude.Count} entries; the limit is {ranking.MaxCandidates} (Ranking:MaxCandidates)."];
            }
            else
            {
                for (var i = 0; i < exclude.Count && !RankRequestValidator.CheckId(errors, $"exclude[{i}]", exclude[i]); i++)
                {
                }
            }
        }

        var interactions = request.Interactions ?? [];
        if (interactions.Count > MaxInteractions)
        {
            errors["interactions"] = [$"interactions has {interactions.Count} entries; the limit is {MaxInteractions}."];
        }
        else
        {
            for (var i = 0; i < interactions.Count; i++)
            {
                var interaction = interactions[i];
                if (RankRequestValidator.CheckId(errors, $"interactions[{i}].itemId", interaction?.ItemId))
                {
                    break;
                }

                if (interaction!.Weight is { } w && (!double.IsFinite(w) || w <= 0 || w > float.MaxValue))
                {
                    errors[$"interactions[{i}].weight"] = ["weight must be a positive finite number."];
                    break;
                }
            }
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid recommendation request");
        }

        var arrival = http.Items.TryGetValue(RankApi.ArrivalKey, out var value) && value is long timestamp ? timestamp : Stopwatch.GetTimestamp();
        var command = new RecommendCommand
        {
            RequestId = request.RequestId ?? Guid.CreateVersion7().ToString("N"),
            Surface = surface!,
            UserId = request.User!.Id!,
            Age = request.User.Age,
            Gender = request.User.Gender,
            ExplicitSegment = request.User.Segment,
            Count = request.Count ?? options.DefaultCount,
            Exclude = request.Exclude?.ToArray() ?? [],
            FilterSeen = request.FilterSeen ?? true,
            Interactions = [.. interactions.Select(i => new KeyValuePair<string, float>(i.ItemId!, (float)(i.Weight ?? 1)))],
            BudgetMs = request.BudgetMs,
        };
        return TypedResults.Ok(RankResponse.Of(await service.RecommendAsync(command, arrival, cancellationToken)));
    }

    public static Results<Ok<SimilarResponse>, ProblemHttpResult, ValidationProblem> Similar(
        string item, string? count, string? surface, RecommendationService service, RecommendOptions options, SurfaceCatalog surfaces)
    {
        var parameters = new Parameters();
        parameters.Id("route.item", item);
        var n = parameters.WholeNumber("count", count, options.DefaultCount, 1, options.MaxCount);
        var resolved = surfaces.Resolve(surface, options.DefaultSurface, out var surfaceProblem);
        if (surfaceProblem is not null)
        {
            parameters.Add("query.surface", surfaceProblem);
        }

        if (!parameters.Valid)
        {
            return parameters.Problem("Invalid similar-items request");
        }

        var started = Stopwatch.GetTimestamp();
        var similar = service.Similar(resolved!, item, n, out var version);
        if (similar is null)
        {
            return version is null
                ? Problems.NotFound("query.surface", "No model", $"No recommender model is active on surface '{resolved}'.")
                : Problems.NotFound("route.item", "Item not found", $"The active model ({version}) does not know item '{Ids.Printable(item)}'.");
        }

        return TypedResults.Ok(new SimilarResponse(item, ServedBy.Model, version, [.. similar.Select(RankedItemDto.Of)], new Dictionary<string, double> { ["total"] = Stopwatch.GetElapsedTime(started).TotalMilliseconds }));
    }
}
