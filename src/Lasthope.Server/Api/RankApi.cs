using Lasthope.Server.Cascade;
using Lasthope.Server.Configuration;
using Lasthope.Server.Ranking;
using Lasthope.Server.Security;
using Lasthope.Server.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Lasthope.Server.Api;

/// <summary>POST /v1/rank.</summary>
public static class RankApi
{
    public static IEndpointRouteBuilder MapRankApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/rank", RankAsync)
            .WithName("Rank")
            .WithSummary("Rank candidates for a user, within the budget, never blank")
            .WithDescription("The last-hope heuristic scores every candidate; the surface's model (or the experiment arm's) re-ranks the top K until the deadline. The response carries the served-path contract: servedBy (model, model_partial, heuristic_fallback, heuristic), the fallback reason, versions, depth, budget, timings and notes. Every response is logged as impressions.")
            .Produces<RankResponse>()
            .WithBodyProblems()
            .RequireScope(Scopes.Rank)
            .ReadsBodyFirst()
            .BehindServingDoor();
        return app;
    }

    /// <summary>The HttpContext item holding the <see cref="System.Diagnostics.Stopwatch"/> timestamp of arrival.</summary>
    public const string ArrivalKey = "lasthope.arrival";

    public static async Task<Results<Ok<RankResponse>, ValidationProblem>> RankAsync(
        RankRequest request, RankingService ranking, IOptions<LasthopeOptions> options, SurfaceCatalog surfaces, TimeProvider time, HttpContext http, CancellationToken cancellationToken)
    {
        var arrival = http.Items.TryGetValue(ArrivalKey, out var value) && value is long timestamp ? timestamp : 0;
        var command = RankRequestValidator.Validate(request, options.Value.Ranking, surfaces, static () => Guid.CreateVersion7().ToString("N"), out var errors);
        if (command is not null && request.Timestamp is { } eventTime && EventTimeProblem(eventTime, time, options.Value.Events.MaxPastAge) is { } problem)
        {
            errors["timestamp"] = [problem];
            command = null;
        }

        if (command is null)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid rank request");
        }

        return TypedResults.Ok(RankResponse.Of(await ranking.RankAsync(command with { EventTime = request.Timestamp }, arrival, cancellationToken)));
    }

    /// <summary>
    /// Why a rank request's event time is refused: the server's clock does not follow event time, or the time is more
    /// than <paramref name="maxAge"/> from that clock (a jump that far forward would empty every counter window at once).
    /// </summary>
    private static string? EventTimeProblem(DateTimeOffset eventTime, TimeProvider time, TimeSpan maxAge)
    {
        if (time is not EventClock clock)
        {
            return "this server serves at its own clock; start it with --event-clock to serve requests at their event time";
        }

        var now = clock.GetUtcNow();
        return (eventTime - now).Duration() > maxAge
            ? $"{eventTime:O} is more than Events:MaxPastAge ({maxAge}) from the server's event clock ({now:O})"
            : null;
    }
}
