using Lasthope.Server.Hosting;
using Lasthope.Server.Ranking;
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
        app.MapPost("/v1/rank", RankAsync).WithName("Rank");
        return app;
    }

    public static async Task<Results<Ok<RankResponse>, ValidationProblem>> RankAsync(
        RankRequest request, RankingService ranking, IOptions<LasthopeOptions> options, CancellationToken cancellationToken)
    {
        var command = RankRequestValidator.Validate(request, options.Value.Ranking, static () => Guid.CreateVersion7().ToString("N"), out var errors);
        if (command is null)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid rank request");
        }

        return TypedResults.Ok(await ranking.RankAsync(command, cancellationToken));
    }
}
