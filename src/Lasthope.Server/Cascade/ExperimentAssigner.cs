using Lasthope.Server.Configuration;
namespace Lasthope.Server.Cascade;

/// <summary>An assignment: the experiment, the arm, and the arm's policy.</summary>
public sealed record Assignment(string ExperimentId, ArmOptions Arm);

/// <summary>
/// Splits users into arms by <see cref="StableHash"/> of (salt, user id): deterministic, stable across restarts and machines, and
/// independent between experiments with different salts. The hash is mapped to [0, 1) and the arms take consecutive
/// intervals in proportion to their weights.
/// </summary>
public sealed class ExperimentAssigner
{
    private readonly Dictionary<string, ExperimentOptions> _bySurface = new(StringComparer.Ordinal);

    public ExperimentAssigner(IEnumerable<ExperimentOptions> experiments)
    {
        ArgumentNullException.ThrowIfNull(experiments);
        foreach (var experiment in experiments)
        {
            if (!_bySurface.TryAdd(experiment.Surface, experiment))
            {
                throw new ArgumentException($"Serving:Experiments: two experiments run on surface '{experiment.Surface}'; one surface runs one experiment at a time.");
            }
        }
    }

    /// <summary>The arm of <paramref name="userId"/> in the experiment running on <paramref name="surface"/>, or null.</summary>
    public Assignment? Assign(string surface, string userId)
    {
        if (!_bySurface.TryGetValue(surface, out var experiment))
        {
            return null;
        }

        var u = StableHash.Uniform(userId, experiment.Salt ?? experiment.Id);
        var total = experiment.Arms.Sum(a => a.Weight);
        var cumulative = 0.0;
        foreach (var arm in experiment.Arms)
        {
            cumulative += arm.Weight / total;
            if (u < cumulative)
            {
                return new Assignment(experiment.Id, arm);
            }
        }

        return new Assignment(experiment.Id, experiment.Arms[^1]);
    }
}
