using System.Globalization;
using Lasthope.Core.Events;
using Lasthope.Core.Serving;
using Lasthope.Evaluation;

namespace Lasthope.Server.Experiments;

/// <summary>The requests of one arm that one path served, and their clicks.</summary>
public sealed record PathCell(ServedBy ServedBy, FallbackReason? Reason, int Requests, long Impressions, long Clicks)
{
    /// <summary>Clicks per impression (NaN without impressions).</summary>
    public double Ctr => Impressions > 0 ? (double)Clicks / Impressions : double.NaN;
}

/// <summary>One arm's requests of one UTC day, and how many of them the model served (in full or in part).</summary>
public sealed record ArmDay(DateOnly Day, int Requests, long Impressions, long Clicks, int ServedByModel)
{
    /// <summary>Clicks per impression (NaN without impressions).</summary>
    public double Ctr => Impressions > 0 ? (double)Clicks / Impressions : double.NaN;
}

/// <summary>One arm, as assigned (intention to treat) and as served.</summary>
/// <param name="Arm">The arm's name.</param>
/// <param name="Users">Distinct users (a request without a user id counts as its own user).</param>
/// <param name="Ctr">Clicks per impression, with an interval clustered by user.</param>
/// <param name="EffectVsControl">This arm's CTR minus the control's, with its interval; null for the control.</param>
/// <param name="MeantModel">Whether the arm's policy is a model (some request was meant to be served by one).</param>
/// <param name="FallbackShare">Share of the arm's requests the heuristic served in the model's place (heuristic_fallback).</param>
/// <param name="Paths">Requests, impressions and clicks by the path that actually served.</param>
/// <param name="Days">The same per UTC day of the rankings' event time, oldest first: the report's charts over time.</param>
public sealed record ArmReadout(
    string Arm, int Users, int Requests, long Impressions, long Clicks, Interval Ctr, Interval? EffectVsControl,
    bool MeantModel, double FallbackShare, IReadOnlyList<PathCell> Paths, IReadOnlyList<ArmDay> Days)
{
    /// <summary>
    /// Share of the arm's requests the model re-ranked only in part before the deadline (model_partial): served by the
    /// model, but not at the depth the arm assigns.
    /// </summary>
    public double PartialShare => Requests == 0 ? 0 : Paths.Where(p => p.ServedBy == ServedBy.ModelPartial).Sum(p => p.Requests) / (double)Requests;
}

/// <summary>
/// The fallback-skew alarm: a model arm whose requests were not served as assigned beyond a threshold, that is the
/// heuristic answered in the model's place (<paramref name="FallbackShare"/>) or the model re-ranked only a prefix of
/// the assigned depth in time (<paramref name="PartialShare"/>); the alarm compares their sum with the threshold.
/// </summary>
public sealed record FallbackSkew(string? Arm, double FallbackShare, double PartialShare, double Threshold, bool Alarm);

/// <summary>The readout of one experiment: per arm, the sample-ratio test, the fallback skew and a verdict in words.</summary>
public sealed record ExperimentReport(
    string ExperimentId, string Control, IReadOnlyList<ArmReadout> Arms, SampleRatioTest SampleRatio, FallbackSkew FallbackSkew, string Verdict);

/// <summary>
/// Reads an experiment out of the impression log: which users each arm had, what they were shown and clicked, and
/// which path actually served each request. The intention-to-treat effect compares arms as assigned, so a model that
/// often times out is measured as the mixture its users saw; the as-served cells and the fallback-skew alarm say so.
/// </summary>
public static class ExperimentReadout
{
    /// <summary>The default fallback-skew threshold: more than 5% of a model arm's requests served by the fallback.</summary>
    public const double DefaultSkewThreshold = 0.05;

    /// <param name="experimentId">The experiment.</param>
    /// <param name="rankings">Logged rankings (any; those of other experiments are ignored).</param>
    /// <param name="clicks">Interaction events; those that name a ranking of the experiment and an item it showed count.</param>
    /// <param name="shares">Each arm's configured share of users (weights; normalised), for the sample-ratio test.</param>
    /// <param name="control">The control arm; default "control" when there is one, else the first arm of <paramref name="shares"/>.</param>
    /// <exception cref="ArgumentException">No arms are configured.</exception>
    public static ExperimentReport Read(
        string experimentId, IEnumerable<RankingLog> rankings, IEnumerable<InteractionEvent> clicks, IReadOnlyDictionary<string, double> shares,
        string? control = null, double level = 0.95, double skewThreshold = DefaultSkewThreshold)
    {
        ArgumentNullException.ThrowIfNull(rankings);
        ArgumentNullException.ThrowIfNull(clicks);
        ArgumentNullException.ThrowIfNull(shares);
        if (shares.Count == 0)
        {
            throw new ArgumentException($"Experiment '{experimentId}' has no arms.", nameof(shares));
        }

        var arms = shares.Keys.ToList();
        control ??= shares.ContainsKey("control") ? "control" : arms[0];
        var served = new Dictionary<string, RankingLog>(StringComparer.Ordinal);
        foreach (var r in rankings)
        {
            if (r.Experiment is { } e && e.ExperimentId == experimentId && shares.ContainsKey(e.Arm))
            {
                served[r.RequestId] = r;
            }
        }

        var clicked = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var c in clicks)
        {
            if (c.RequestId is { } id && served.TryGetValue(id, out var r) && c.Weight > 0 && r.Items.Any(i => i.ItemId == c.ItemId))
            {
                clicked[id] = clicked.GetValueOrDefault(id) + 1;
            }
        }

        var readouts = new List<ArmReadout>();
        var perArmUsers = new Dictionary<string, UserTotals[]>(StringComparer.Ordinal);
        foreach (var arm in arms)
        {
            var requests = served.Values.Where(r => r.Experiment!.Arm == arm).ToList();
            var users = requests
                .GroupBy(r => r.UserId ?? "request:" + r.RequestId, StringComparer.Ordinal)
                .Select(g => new UserTotals(g.Sum(r => r.Items.Count), g.Sum(r => clicked.GetValueOrDefault(r.RequestId))))
                .ToArray();
            perArmUsers[arm] = users;
            var paths = requests
                .GroupBy(r => (r.ServedBy, r.FallbackReason))
                .OrderBy(g => g.Key.ServedBy).ThenBy(g => g.Key.FallbackReason)
                .Select(g => new PathCell(g.Key.ServedBy, g.Key.FallbackReason, g.Count(), g.Sum(r => (long)r.Items.Count), g.Sum(r => clicked.GetValueOrDefault(r.RequestId))))
                .ToList();
            var days = requests
                .GroupBy(r => DateOnly.FromDateTime(r.Time.UtcDateTime))
                .OrderBy(g => g.Key)
                .Select(g => new ArmDay(g.Key, g.Count(), g.Sum(r => (long)r.Items.Count), g.Sum(r => clicked.GetValueOrDefault(r.RequestId)), g.Count(r => r.ServedBy is ServedBy.Model or ServedBy.ModelPartial)))
                .ToList();
            var meant = requests.Any(r => r.ServedBy != ServedBy.Heuristic);
            var fallback = requests.Count == 0 ? 0 : requests.Count(r => r.ServedBy == ServedBy.HeuristicFallback) / (double)requests.Count;
            readouts.Add(new ArmReadout(
                arm, users.Length, requests.Count, paths.Sum(p => p.Impressions), paths.Sum(p => p.Clicks),
                ExperimentStatistics.Ratio(users, level), null, meant, fallback, paths, days));
        }

        readouts = [.. readouts.Select(a => a.Arm == control ? a : a with { EffectVsControl = ExperimentStatistics.RatioDifference(perArmUsers[a.Arm], perArmUsers[control], level) })];
        var srm = ExperimentStatistics.SampleRatio([.. readouts.Select(a => (long)a.Users)], [.. arms.Select(a => shares[a])]);
        var skewed = readouts.Where(a => a.MeantModel).OrderByDescending(a => a.FallbackShare + a.PartialShare).FirstOrDefault();
        var skew = new FallbackSkew(
            skewed?.Arm, skewed?.FallbackShare ?? 0, skewed?.PartialShare ?? 0, skewThreshold, skewed is not null && skewed.FallbackShare + skewed.PartialShare > skewThreshold);
        return new ExperimentReport(experimentId, control, readouts, srm, skew, Verdict(readouts, control, srm, skew));
    }

    private static string Verdict(IReadOnlyList<ArmReadout> arms, string control, SampleRatioTest srm, FallbackSkew skew)
    {
        var words = new List<string>();
        if (srm.Alarm)
        {
            words.Add(Invariant($"Sample ratio mismatch (chi-square {srm.ChiSquare:F1}, p = {srm.PValue:G2}): users are not split as configured, so no effect below can be trusted."));
        }

        foreach (var arm in arms.Where(a => a.Arm != control))
        {
            var effect = arm.EffectVsControl!.Value;
            var direction = effect.Lower > 0 ? "above" : effect.Upper < 0 ? "below" : "not distinguishable from";
            words.Add(Invariant($"The {arm.Arm} arm's CTR is {Percent(arm.Ctr.Estimate, 2)} against {control}'s {Percent(arms.First(a => a.Arm == control).Ctr.Estimate, 2)}: {direction} it (difference {effect.Estimate * 100:+0.00;-0.00} [{effect.Lower * 100:+0.00;-0.00}, {effect.Upper * 100:+0.00;-0.00}] points)."));
        }

        if (skew.Alarm)
        {
            var arm = arms.First(a => a.Arm == skew.Arm);
            var byModel = arm.Paths.Where(p => p.ServedBy is ServedBy.Model or ServedBy.ModelPartial).Sum(p => p.Requests) / (double)Math.Max(1, arm.Requests);
            var partly = arm.PartialShare > 0 ? Invariant($", {Percent(arm.PartialShare, 0)} of them only partly re-ranked in time") : "";
            words.Add(Invariant($"The {arm.Arm} arm was served by the model on {Percent(byModel, 0)} of its requests{partly} ({Percent(arm.FallbackShare, 0)} fell back to the heuristic; {Percent(arm.FallbackShare + arm.PartialShare, 0)} not served as assigned, above the {Percent(skew.Threshold, 0)} threshold); its effect is diluted accordingly: it measures a mixture, not the model."));
        }

        return string.Join(" ", words);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>"38%", not the invariant culture's "38 %".</summary>
    private static string Percent(double share, int decimals) => (share * 100).ToString("F" + decimals, CultureInfo.InvariantCulture) + "%";
}
