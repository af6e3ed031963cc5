using Lasthope.Core.Storage;
using Lasthope.Server.Configuration;
using Lasthope.Trees;
using Lasthope.Trees.Native;

namespace Lasthope.Training;

/// <summary>What a retraining decided.</summary>
public enum RetrainDecision
{
    /// <summary>The candidate's estimated CTR is above the active policy's, the whole interval of the difference above 0: it is active now.</summary>
    Activated,

    /// <summary>The interval of the difference reaches 0 or below: the active policy stays.</summary>
    Kept,

    /// <summary>The log gives no off-policy estimate (no explored rankings with their rows in the window): the active policy stays.</summary>
    NoEstimate,
}

/// <summary>
/// One retraining: the candidate trained, what it was compared with, the estimate, the decision, and the registered
/// candidate (every candidate is registered, so that each decision names a version and keeps its figures).
/// </summary>
/// <param name="Against">The policy the candidate was compared with: the active model's version, or "heuristic" when none is active.</param>
/// <param name="PreviousActive">The surface's active model before the decision (null: the heuristic); activating it again is the rollback.</param>
public sealed record RetrainReport(
    string Surface,
    RankerTrainingReport Training,
    string Against,
    string? PreviousActive,
    OffPolicyCheck Check,
    RetrainDecision Decision,
    string Reason,
    ModelRecord Candidate);

/// <summary>
/// Retraining as a job: trains a candidate from the surface's log (<see cref="RankerTraining"/>), estimates its CTR
/// and the active policy's off-policy on the validation window's explored rankings, which trained neither
/// (<see cref="RerankPolicyEstimates"/>), and activates it only when the doubly robust estimate's interval of the
/// difference lies above 0. DR rather than IPS: both are unbiased here, and DR's position-CTR control variate narrows
/// the interval. The decision and its figures are stored with the candidate's metrics (<c>retrain</c>).
/// </summary>
public sealed class RetrainJob(IEventStore store, ServingOptions serving)
{
    public async Task<RetrainReport> RunAsync(RankerTrainingRequest request, Action<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var training = new RankerTraining(store, serving);
        var trained = await training.TrainAsync(request with { Register = false, Activate = false }, progress, cancellationToken);
        var models = Server.Hosting.StoreSelection.ModelStoreOf(store);
        var previous = (await models.GetActiveModelsAsync(cancellationToken)).GetValueOrDefault(request.Surface);
        var baseline = RerankPolicy.Heuristic;
        if (previous is not null && await models.FindModelAsync(previous, cancellationToken) is { Kind: not "als" } active)
        {
            baseline = RerankPolicy.Model(TreeModel.Parse(active.Content), active.Version);
        }

        var candidate = RerankPolicy.Model(TreeModel.FromLightGbm(trained.ModelText), "candidate");
        var check = await RankerTraining.OffPolicyAsync(store, request.Surface, candidate, baseline, trained.OffPolicy.ValidationFrom, cancellationToken);
        var (decision, reason) = Decide(check);
        var figures = new Dictionary<string, object>
        {
            ["decision"] = decision.ToString().ToLowerInvariant(),
            ["reason"] = reason,
            ["against"] = baseline.Name,
            ["validationFrom"] = check.ValidationFrom,
        };
        if (check.Estimate is { } estimate)
        {
            figures["ctr_dr"] = RankerTraining.OffPolicyFigures(estimate);
        }

        var registered = await training.RegisterAsync(
            request,
            trained,
            trained.Since,
            check.ValidationFrom,
            new Dictionary<string, object> { ["retrain"] = figures },
            decision == RetrainDecision.Activated,
            cancellationToken);
        return new RetrainReport(request.Surface, trained with { Registered = registered, Activated = decision == RetrainDecision.Activated }, baseline.Name, previous, check, decision, reason, registered);
    }

    /// <summary>Activate only when the DR interval of candidate - active lies wholly above 0.</summary>
    public static (RetrainDecision Decision, string Reason) Decide(OffPolicyCheck check)
    {
        ArgumentNullException.ThrowIfNull(check);
        if (check.Estimate is not { } estimate)
        {
            return (RetrainDecision.NoEstimate, check.Unavailable ?? "no off-policy estimate");
        }

        var d = estimate.Comparison.DoublyRobustDifference.Value;
        var figure = FormattableString.Invariant($"DR CTR difference {d.Estimate * 100:+0.000;-0.000} points [{d.Lower * 100:+0.000;-0.000}, {d.Upper * 100:+0.000;-0.000}] over {estimate.Comparison.Candidate.Decisions:N0} explored impressions");
        return d.Lower > 0
            ? (RetrainDecision.Activated, $"{figure}: above 0")
            : (RetrainDecision.Kept, $"{figure}: not above 0");
    }
}
