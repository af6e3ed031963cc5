using System.Globalization;
using Lasthope.Evaluation;
using Lasthope.Testing;
using nietras.SeparatedValues;

namespace Lasthope.Evaluation.Tests;

public sealed class OffPolicyTests
{
    [Fact]
    public void Estimates_CoverATargetPolicysTrueValue_FromAnotherPolicysLog()
    {
        // Five actions with known click rates; the logger prefers action 0, the target is uniform.
        double[] rates = [0.02, 0.05, 0.08, 0.11, 0.14];
        double[] logging = [0.6, 0.1, 0.1, 0.1, 0.1];
        var truth = rates.Average();
        var random = new Random(3);
        var log = new LoggedDecision[20_000];
        for (var i = 0; i < log.Length; i++)
        {
            var u = random.NextDouble();
            var a = 0;
            for (var cumulative = logging[0]; u > cumulative && a < 4; cumulative += logging[++a])
            {
            }

            var click = random.NextDouble() < rates[a] ? 1 : 0;
            // The reward model is deliberately off by 0.02: DR stays unbiased with a wrong model.
            log[i] = new LoggedDecision(click, logging[a], 0.2, rates[a] + 0.02, truth + 0.02);
        }

        var report = OffPolicy.Estimate(log);
        foreach (var estimate in report.All)
        {
            Assert.True(estimate.Value.Lower <= truth && truth <= estimate.Value.Upper, $"{estimate.Estimator}: {estimate.Value} misses {truth}");
        }

        var naive = log.Average(d => d.Reward);
        Assert.True(naive < report.Ips.Value.Lower, $"the logged CTR {naive} should sit below the target's interval");
        Assert.InRange(report.EffectiveSampleSize, 1000, log.Length);
    }

    [Fact]
    public void EffectiveSampleSize_IsTheLogSize_WhenTheTargetIsTheLogger()
    {
        LoggedDecision[] log = [new(1, 0.5, 0.5), new(0, 0.25, 0.25), new(0, 0.25, 0.25), new(1, 0.5, 0.5)];
        var report = OffPolicy.Estimate(log);
        Assert.Equal(4, report.EffectiveSampleSize, 1e-12);
        Assert.Equal(0.5, report.Ips.Value.Estimate, 1e-12);
        Assert.Equal(0.5, report.SelfNormalizedIps.Value.Estimate, 1e-12);
    }

    [Theory]
    [InlineData(0.0, 0.5)]
    [InlineData(1.5, 0.5)]
    [InlineData(0.5, -0.1)]
    [InlineData(double.NaN, 0.5)]
    public void Estimate_RefusesImpossibleProbabilities_NamingTheDecision(double logging, double target)
    {
        LoggedDecision[] log = [new(1, 0.5, 0.5), new(0, logging, target)];
        var e = Assert.Throws<ArgumentException>(() => OffPolicy.Estimate(log));
        Assert.Contains("Decision 1", e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The Open Bandit paper's protocol (Saito et al. 2021): the uniformly random policy's CTR estimated from the
    /// Thompson-sampling log's propensities must lie in its interval, beside the random log's own CTR.
    /// </summary>
    [Theory]
    [InlineData("men")]
    [InlineData("women")]
    public void OpenBandit_TheRandomPolicysCtr_LiesInTheIntervalEstimatedFromTheBanditLog(string campaign)
    {
        var bandit = TestData.Require($"open-bandit/bts/{campaign}/{campaign}.csv");
        var randomLog = TestData.Require($"open-bandit/random/{campaign}/{campaign}.csv");
        var items = CountRows(TestData.Require($"open-bandit/bts/{campaign}/item_context.csv"));
        var randomCtr = ReadLog(randomLog).Average(r => r.Click);

        // The random policy puts each item at a given position with probability 1 / items.
        var log = ReadLog(bandit).Select(r => new LoggedDecision(r.Click, r.Propensity, 1.0 / items)).ToArray();
        var report = OffPolicy.Estimate(log, resamples: 2000);
        foreach (var estimate in new[] { report.Ips, report.SelfNormalizedIps })
        {
            Assert.True(estimate.Value.Lower <= randomCtr && randomCtr <= estimate.Value.Upper, $"{campaign} {estimate.Estimator}: {estimate.Value} misses the random log's CTR {randomCtr} (ESS {report.EffectiveSampleSize:F0})");
        }
    }

    private static List<(double Click, double Propensity)> ReadLog(string path)
    {
        var rows = new List<(double, double)>();
        using var reader = Sep.Reader().FromFile(path);
        foreach (var row in reader)
        {
            rows.Add((row["click"].Parse<double>(), double.Parse(row["propensity_score"].Span, CultureInfo.InvariantCulture)));
        }

        return rows;
    }

    private static int CountRows(string path)
    {
        using var reader = Sep.Reader().FromFile(path);
        var n = 0;
        foreach (var _ in reader)
        {
            n++;
        }

        return n;
    }
}
