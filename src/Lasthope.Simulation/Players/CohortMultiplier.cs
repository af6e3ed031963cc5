namespace Lasthope.Simulation.Players;

/// <summary>
/// The BI heuristic an LTV model is compared with: predicted horizon revenue = revenue so far x a cohort multiplier, the
/// ratio of horizon revenue to day-D revenue summed over the players of earlier cohorts that have completed the horizon,
/// m = sum R_H / sum R_D (the cohort's cumulative revenue curve read at H over its value at D).
/// </summary>
/// <remarks>
/// A ratio of sums, as a dashboard computes it, so it is unbiased on the total of new cohorts as far as they resemble the
/// old ones; per player it is poor by construction: a player who has not paid by day D is predicted zero, and all of the
/// revenue of late first purchases is spread over the early payers. Fit it on old cohorts only (their horizon has
/// completed); fitting on the cohorts it predicts would use their future.
/// </remarks>
/// <param name="FeatureDays">D, the days the revenue so far covers.</param>
/// <param name="HorizonDays">H, the horizon predicted.</param>
/// <param name="Multiplier">m = sum R_H / sum R_D over the training players.</param>
/// <param name="TrainingPlayers">How many players it was fitted on.</param>
public sealed record CohortMultiplier(int FeatureDays, int HorizonDays, double Multiplier, int TrainingPlayers)
{
    /// <summary>Fits m on <paramref name="training"/>: rows of old cohorts, all with the same D and H.</summary>
    /// <exception cref="ArgumentException">The rows are empty, mix D or H, or have no revenue by day D.</exception>
    public static CohortMultiplier Fit(IEnumerable<PlayerRow> training)
    {
        ArgumentNullException.ThrowIfNull(training);
        int? days = null, horizon = null;
        var count = 0;
        var early = 0.0;
        var late = 0.0;
        foreach (var row in training)
        {
            days ??= row.Features.FeatureDays;
            horizon ??= row.Truth.HorizonDays;
            if (row.Features.FeatureDays != days || row.Truth.HorizonDays != horizon)
            {
                throw new ArgumentException("The training rows mix feature days or horizons.", nameof(training));
            }

            early += row.Features.Revenue;
            late += row.Truth.Revenue;
            count++;
        }

        if (count == 0 || !(early > 0))
        {
            throw new ArgumentException($"The training set ({count} players) has no revenue by day D: the multiplier is undefined.", nameof(training));
        }

        return new CohortMultiplier(days!.Value, horizon!.Value, late / early, count);
    }

    /// <summary>The predicted horizon revenue of a player with <paramref name="revenueSoFar"/> dollars by day D.</summary>
    public double Predict(double revenueSoFar) => revenueSoFar * Multiplier;

    /// <summary>The predicted horizon revenue of a player with these features (observed over the same D).</summary>
    /// <exception cref="ArgumentException">The features cover another number of days.</exception>
    public double Predict(in PlayerFeatures features)
    {
        if (features.FeatureDays != FeatureDays)
        {
            throw new ArgumentException($"The multiplier was fitted on day {FeatureDays} revenue, not day {features.FeatureDays}.", nameof(features));
        }

        return Predict(features.Revenue);
    }
}
