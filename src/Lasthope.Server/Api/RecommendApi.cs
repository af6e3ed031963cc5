using System.Diagnostics;
using Lasthope.Core.Serving;
using Lasthope.Server.Recommend;
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
    public static IEndpointRouteBuilder MapRecommendApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/recommend", RecommendAsync).WithName("Recommend").BehindServingDoor();
        app.MapGet("/v1/similar/{item}", Similar).WithName("Similar");
        return app;
    }

    public static async Task<Results<Ok<RankResponse>, ValidationProblem>> RecommendAsync(
        RecommendRequest request, RecommendationService service, RecommendOptions options, HttpContext http, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (request.User is null || string.IsNullOrEmpty(request.User.Id) || request.User.Id.Length > 256)
        {
            errors["user.id"] = ["user.id is required, 1 to 256 characters."];
        }

        if (request.Count is { } count && (count < 1 || count > options.MaxCount))
        {
            errors["count"] = [$"count must be between 1 and {options.MaxCount}."];
        }

        if (request.BudgetMs is { } budget && (!double.IsFinite(budget) || budget <= 0 || budget > 60_000))
        {
            errors["budgetMs"] = ["budgetMs must be a finite number of milliseconds in (0, 60000]."];
        }

        for (var i = 0; i < (request.Interactions?.Count ?? 0); i++)
        {
            var interaction = request.Interactions![i];
            if (string.IsNullOrEmpty(interaction?.ItemId))
            {
                errors[$"interactions[{i}].itemId"] = ["itemId is required."];
            }
            else if (interaction.Weight is { } w && (!double.IsFinite(w) || w <= 0))
            {
                errors[$"interactions[{i}].weight"] = ["weight must be a positive finite number."];
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
            Surface = request.Surface ?? options.DefaultSurface,
            UserId = request.User!.Id!,
            Age = request.User.Age,
            Gender = request.User.Gender,
            ExplicitSegment = request.User.Segment,
            Count = request.Count ?? options.DefaultCount,
            Exclude = request.Exclude?.Where(e => e is not null).ToArray() ?? [],
            FilterSeen = request.FilterSeen ?? true,
            Interactions = request.Interactions?.Select(i => new KeyValuePair<string, float>(i.ItemId!, (float)(i.Weight ?? 1))).ToArray() ?? [],
            BudgetMs = request.BudgetMs,
        };
        return TypedResults.Ok(await service.RecommendAsync(command, arrival, cancellationToken));
    }

    public static Results<Ok<SimilarResponse>, NotFound<ProblemDetailsLite>, ValidationProblem> Similar(
        string item, int? count, string? surface, RecommendationService service, RecommendOptions options)
    {
        var n = count ?? options.DefaultCount;
        if (n < 1 || n > options.MaxCount)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["count"] = [$"count must be between 1 and {options.MaxCount}."] });
        }

        var started = Stopwatch.GetTimestamp();
        var similar = service.Similar(surface ?? options.DefaultSurface, item, n, out var version);
        if (similar is null)
        {
            return TypedResults.NotFound(new ProblemDetailsLite(
                "Item not found",
                version is null ? $"No recommender model is active on surface '{surface ?? options.DefaultSurface}'." : $"The active model ({version}) does not know item '{item}'.",
                404));
        }

        return TypedResults.Ok(new SimilarResponse(item, ServedBy.Model, version, similar, new Dictionary<string, double> { ["total"] = Stopwatch.GetElapsedTime(started).TotalMilliseconds }));
    }
}
