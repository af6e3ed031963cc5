using Lasthope.Core.Storage;
using Lasthope.Server.Cascade;
using Lasthope.Server.Configuration;
using Lasthope.Server.Models;
using Lasthope.Server.Telemetry;
using Microsoft.Extensions.Logging;

namespace Lasthope.Server.Ranking;

/// <summary>Which model (if any) is meant to serve a request, with what depth, and under which experiment arm.</summary>
/// <param name="Meant">A model is meant to serve (it may still be missing: <see cref="Model"/> null).</param>
/// <param name="Model">The model, loaded and bound to the surface, or null.</param>
/// <param name="WantedVersion">The version an arm asked for, when it could not be loaded.</param>
/// <param name="Depth">K: how many of the heuristic's top candidates the model re-ranks.</param>
/// <param name="Assignment">The experiment arm, when an experiment runs on the surface.</param>
public sealed record RankPolicy(bool Meant, LoadedModel? Model, string? WantedVersion, int Depth, Assignment? Assignment)
{
    /// <summary>The arm's or surface's exploration policy, or null.</summary>
    public ExplorationOptions? Exploration { get; init; }

    /// <summary>This request falls in the explored fraction (so the heuristic orders the n' items it draws from).</summary>
    public bool Explored { get; init; }

    public static RankPolicy HeuristicOnly(Assignment? assignment) => new(false, null, null, 0, assignment);
}

/// <summary>
/// The policy of a request: the experiment running on its surface assigns the user an arm, whose policy is the
/// heuristic, the surface's active model or a given version; without an experiment the surface's active model serves,
/// if it has one. K comes from the request, else the arm, else the surface, else the default.
/// </summary>
public sealed partial class PolicyResolver(ModelRegistry models, ExperimentAssigner experiments, ServingOptions serving, ILogger<PolicyResolver> logger)
{
    public async ValueTask<RankPolicy> ResolveAsync(RankCommand command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var policy = await ResolveModelAsync(command, cancellationToken);
        var exploration = Ranking.Exploration.For(serving.Surface(command.Surface), policy.Assignment?.Arm);
        return exploration is null ? policy : policy with { Exploration = exploration, Explored = Ranking.Exploration.Explores(exploration, command.RequestId) };
    }

    private async ValueTask<RankPolicy> ResolveModelAsync(RankCommand command, CancellationToken cancellationToken)
    {
        var depth = command.RerankDepth ?? serving.Surface(command.Surface).RerankDepth ?? serving.RerankDepth;
        var assignment = command.UserId is { } user ? experiments.Assign(command.Surface, user) : null;
        if (assignment is null)
        {
            var active = models.Active(command.Surface);
            return active is null || depth == 0 ? RankPolicy.HeuristicOnly(null) : new RankPolicy(true, active, null, depth, null);
        }

        var arm = assignment.Arm;
        depth = command.RerankDepth ?? arm.RerankDepth ?? depth;
        if (string.Equals(arm.Policy, "heuristic", StringComparison.Ordinal) || depth == 0)
        {
            return RankPolicy.HeuristicOnly(assignment);
        }

        if (string.Equals(arm.Policy, "active", StringComparison.Ordinal))
        {
            return new RankPolicy(true, models.Active(command.Surface), null, depth, assignment);
        }

        LoadedModel? model;
        try
        {
            model = await models.GetAsync(command.Surface, arm.Policy, cancellationToken);
        }
        catch (Exception e) when (e is ModelRejectedException or StoreUnavailableException)
        {
            LogArmModelUnavailable(logger, command.Surface, arm.Name, arm.Policy, e);
            model = null;
        }

        return new RankPolicy(true, model, arm.Policy, depth, assignment);
    }

    [LoggerMessage(EventId = LogEvents.ArmModelUnavailable, Level = LogLevel.Warning, Message = "Surface {Surface}, arm {Arm}: model {Version} cannot be loaded; the arm falls back with no_model")]
    private static partial void LogArmModelUnavailable(ILogger logger, string surface, string arm, string version, Exception exception);
}
