using Lasthope.Evaluation;

namespace Lasthope.Evaluation.Tests;

public sealed class ExperimentStatisticsTests
{
    [Theory]
    [InlineData(3.841458820694124, 1, 0.05)]
    [InlineData(5.991464547107979, 2, 0.05)]
    [InlineData(18.307038053275146, 10, 0.05)]
    [InlineData(6.634896601021214, 1, 0.01)]
    [InlineData(0.454936423119572, 1, 0.5)]
    [InlineData(20, 1, 7.744216431044e-06)]
    public void ChiSquareSurvival_MatchesTabulatedQuantiles(double x, int df, double p)
        => Assert.Equal(p, ExperimentStatistics.ChiSquareSurvival(x, df), p * 1e-6);

    [Fact]
    public void SampleRatio_FiresOnAnInjected45To55Split_AndStaysSilentOn50To50()
    {
        var mismatch = ExperimentStatistics.SampleRatio([900, 1100], [0.5, 0.5]);
        Assert.True(mismatch.Alarm, $"p = {mismatch.PValue}");
        Assert.Equal(20, mismatch.ChiSquare, 1e-9);

        // 200 experiments whose 2,000 users are assigned by a fair coin: at p < 0.0005 an alarm is a 1-in-2,000 event.
        var random = new Random(7);
        var alarms = 0;
        for (var e = 0; e < 200; e++)
        {
            var treatment = 0L;
            for (var u = 0; u < 2000; u++)
            {
                treatment += random.Next(2);
            }

            alarms += ExperimentStatistics.SampleRatio([2000 - treatment, treatment], [0.5, 0.5]).Alarm ? 1 : 0;
        }

        Assert.True(alarms <= 1, $"{alarms} false alarms in 200 fair splits");
        Assert.False(ExperimentStatistics.SampleRatio([1000, 1000], [1, 1]).Alarm);
        Assert.False(ExperimentStatistics.SampleRatio([1000, 3000], [1, 3]).Alarm);
    }

    [Fact]
    public void SampleRatio_RefusesMismatchedOrImpossibleArms()
    {
        Assert.Throws<ArgumentException>(() => ExperimentStatistics.SampleRatio([10], [1]));
        Assert.Throws<ArgumentException>(() => ExperimentStatistics.SampleRatio([10, 10], [1]));
        Assert.Throws<ArgumentException>(() => ExperimentStatistics.SampleRatio([10, -1], [1, 1]));
        Assert.Throws<ArgumentException>(() => ExperimentStatistics.SampleRatio([10, 10], [1, 0]));
    }

    [Fact]
    public void Ratio_ClusteredByUser_CoversTheTrueCtr_WhereTheBinomialIntervalIsTooNarrow()
    {
        // Users differ in their own CTR and in how many impressions they see: clicks within a user are correlated.
        const double TrueCtr = 0.05;
        var random = new Random(11);
        int clustered = 0, binomial = 0;
        const int Runs = 300;
        for (var run = 0; run < Runs; run++)
        {
            var users = new UserTotals[400];
            for (var u = 0; u < users.Length; u++)
            {
                var own = random.NextDouble() < 0.5 ? TrueCtr * 0.2 : TrueCtr * 1.8;
                var impressions = 1 + random.Next(60);
                var clicks = 0;
                for (var i = 0; i < impressions; i++)
                {
                    clicks += random.NextDouble() < own ? 1 : 0;
                }

                users[u] = new UserTotals(impressions, clicks);
            }

            var ci = ExperimentStatistics.Ratio(users);
            clustered += ci.Lower <= TrueCtr && TrueCtr <= ci.Upper ? 1 : 0;
            var n = users.Sum(u => u.Trials);
            var se = Math.Sqrt(ci.Estimate * (1 - ci.Estimate) / n);
            binomial += Math.Abs(ci.Estimate - TrueCtr) <= 1.96 * se ? 1 : 0;
        }

        Assert.InRange(clustered / (double)Runs, 0.92, 0.98);
        Assert.True(binomial < clustered, $"binomial covered {binomial}, clustered {clustered} of {Runs}");
    }

    [Fact]
    public void RatioDifference_IsAboveZero_WhenTreatmentIsBetter_AndCoversZero_WhenArmsAreAlike()
    {
        static UserTotals[] Arm(double ctr, int seed)
        {
            var random = new Random(seed);
            return [.. Enumerable.Range(0, 3000).Select(_ => { var n = 20; var c = 0; for (var i = 0; i < n; i++) { c += random.NextDouble() < ctr ? 1 : 0; } return new UserTotals(n, c); })];
        }

        var better = ExperimentStatistics.RatioDifference(Arm(0.06, 1), Arm(0.05, 2));
        Assert.True(better.Lower > 0, better.ToString());
        var alike = ExperimentStatistics.RatioDifference(Arm(0.05, 3), Arm(0.05, 4));
        Assert.True(alike.Lower < 0 && alike.Upper > 0, alike.ToString());
    }
}
