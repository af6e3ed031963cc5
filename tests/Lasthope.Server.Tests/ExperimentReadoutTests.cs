using Lasthope.Core.Events;
using Lasthope.Core.Serving;
using Lasthope.Server.Experiments;

namespace Lasthope.Server.Tests;

public sealed class ExperimentReadoutTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Users split by <paramref name="treatmentShare"/>; each makes 5 requests of 10 items. Control is the heuristic
    /// (CTR 5%); treatment is a model (CTR 8% when it serves) that falls back to the heuristic on
    /// <paramref name="fallback"/> of its requests.
    /// </summary>
    private static (List<RankingLog> Rankings, List<InteractionEvent> Clicks) Simulate(int users, double treatmentShare, double fallback, int seed)
    {
        var random = new Random(seed);
        var rankings = new List<RankingLog>();
        var clicks = new List<InteractionEvent>();
        for (var u = 0; u < users; u++)
        {
            var treatment = random.NextDouble() < treatmentShare;
            for (var q = 0; q < 5; q++)
            {
                var id = $"u{u}-q{q}";
                var byModel = treatment && random.NextDouble() >= fallback;
                var servedBy = !treatment ? ServedBy.Heuristic : byModel ? ServedBy.Model : ServedBy.HeuristicFallback;
                var items = Enumerable.Range(0, 10).Select(i => new ServedItem($"i{i}", i + 1, 1, byModel ? ItemSource.Model : ItemSource.Heuristic)).ToArray();
                rankings.Add(new RankingLog
                {
                    RequestId = id, Time = Now, UserId = $"u{u}", Segment = "unknown", Surface = "home", Items = items, ServedBy = servedBy,
                    FallbackReason = servedBy == ServedBy.HeuristicFallback ? FallbackReason.Timeout : null,
                    Experiment = new ExperimentArm("ab", treatment ? "treatment" : "control"),
                });
                foreach (var item in items.Where(_ => random.NextDouble() < (byModel ? 0.08 : 0.05)))
                {
                    clicks.Add(new InteractionEvent { EventId = $"{id}-{item.ItemId}", Type = "click", Weight = 1, ItemId = item.ItemId, UserId = $"u{u}", RequestId = id, Time = Now, Segment = "unknown" });
                }
            }
        }

        return (rankings, clicks);
    }

    private static readonly Dictionary<string, double> Even = new() { ["control"] = 1, ["treatment"] = 1 };

    [Fact]
    public void AModelThatOftenFallsBack_IsReadAsAMixture_WithTheSkewAlarmAndTheDilutionNamed()
    {
        var (rankings, clicks) = Simulate(4000, 0.5, fallback: 0.4, seed: 1);
        var report = ExperimentReadout.Read("ab", rankings, clicks, Even);
        var treatment = report.Arms.Single(a => a.Arm == "treatment");
        var control = report.Arms.Single(a => a.Arm == "control");
        Assert.Equal(rankings.Count, treatment.Requests + control.Requests);
        Assert.Equal(clicks.Count, treatment.Clicks + control.Clicks);
        Assert.Equal(4000, treatment.Users + control.Users);
        Assert.InRange(treatment.FallbackShare, 0.37, 0.43);
        Assert.True(report.FallbackSkew.Alarm);
        Assert.Equal("treatment", report.FallbackSkew.Arm);
        Assert.False(report.SampleRatio.Alarm, $"p = {report.SampleRatio.PValue}");

        // As assigned, the effect is the mixture's: 0.6 x 3 points, about 1.8 (its interval covers it, not the model's 3).
        var effect = treatment.EffectVsControl!.Value;
        Assert.True(effect.Lower > 0 && effect.Lower <= 0.018 && effect.Upper >= 0.018 && effect.Upper < 0.03, effect.ToString());
        var byModel = treatment.Paths.Single(p => p.ServedBy == ServedBy.Model);
        var fellBack = treatment.Paths.Single(p => p.ServedBy == ServedBy.HeuristicFallback);
        Assert.InRange(byModel.Ctr, 0.07, 0.09);
        Assert.InRange(fellBack.Ctr, 0.04, 0.06);
        Assert.Contains("served by the model on 6", report.Verdict, StringComparison.Ordinal);
        Assert.Contains("diluted", report.Verdict, StringComparison.Ordinal);
    }

    [Fact]
    public void AModelThatServes_HasNoSkewAlarm_AndItsEffectIsTheModels()
    {
        var (rankings, clicks) = Simulate(4000, 0.5, fallback: 0.005, seed: 2);
        var report = ExperimentReadout.Read("ab", rankings, clicks, Even);
        Assert.False(report.FallbackSkew.Alarm);
        var effect = report.Arms.Single(a => a.Arm == "treatment").EffectVsControl!.Value;
        Assert.True(effect.Lower > 0.018 && effect.Lower <= 0.03 && effect.Upper >= 0.03, effect.ToString());
        Assert.DoesNotContain("diluted", report.Verdict, StringComparison.Ordinal);
        Assert.Contains("above it", report.Verdict, StringComparison.Ordinal);
    }

    [Fact]
    public void AnInjected45To55Split_FiresTheSampleRatioAlarm()
    {
        var (rankings, clicks) = Simulate(4000, 0.55, fallback: 0, seed: 3);
        var report = ExperimentReadout.Read("ab", rankings, clicks, Even);
        Assert.True(report.SampleRatio.Alarm, $"chi-square {report.SampleRatio.ChiSquare}, p = {report.SampleRatio.PValue}");
        Assert.StartsWith("Sample ratio mismatch", report.Verdict, StringComparison.Ordinal);
    }

    [Fact]
    public void ClicksOnItemsTheRankingDidNotShow_OrOnOtherExperiments_DoNotCount()
    {
        var (rankings, clicks) = Simulate(10, 0.5, fallback: 0, seed: 4);
        var other = rankings[0] with { RequestId = "other", Experiment = new ExperimentArm("another", "control") };
        clicks.Add(new InteractionEvent { EventId = "x1", Type = "click", Weight = 1, ItemId = "not-shown", RequestId = rankings[0].RequestId, Time = Now, Segment = "unknown" });
        clicks.Add(new InteractionEvent { EventId = "x2", Type = "click", Weight = 1, ItemId = "i0", RequestId = "other", Time = Now, Segment = "unknown" });
        var counted = clicks.Count - 2;
        var report = ExperimentReadout.Read("ab", [.. rankings, other], clicks, Even);
        Assert.Equal(counted, report.Arms.Sum(a => a.Clicks));
        Assert.Equal(rankings.Count, report.Arms.Sum(a => a.Requests));
    }
}
