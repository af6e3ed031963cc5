namespace Lasthope.Simulation.Players;

/// <summary>
/// Parameters of a simulated mobile game's players, for lifetime-value (LTV) demos whose truth is known. The model these
/// parameters feed is described on <see cref="PlayerSimulator"/>; change one with <c>with</c>:
/// <c>new PlayerSimulationOptions { Seed = 7 }</c>.
/// </summary>
/// <remarks>
/// <para>
/// <b>Why a generator.</b> No public data set of game players has what an LTV demo needs: per-player daily sessions and
/// purchases from install, over months, with the platform, channel and country a studio knows, and the truth (what the
/// player was expected to spend) that a prediction can be scored against. Studios do not publish such logs, and
/// realised revenue alone cannot tell a good prediction from a lucky one. So the players are simulated, with parameters
/// set to land inside rough public ranges.
/// </para>
/// <para>
/// <b>How the defaults were chosen.</b> They are not a fit to any data set. They were tuned by hand (on seed 42, checked
/// on others by <c>PlayerSimulatorTests</c>) so that the simulated game sits inside ranges that are commonly quoted in
/// public industry material, which vary widely by genre, platform and year and should be read as orders of magnitude:
/// </para>
/// <list type="bullet">
/// <item><description>
/// Retention (bounded: the share of installs active on day n after install): D1 about 35-40%, D7 about 12-18%, D30 about
/// 4-7%. Public benchmark summaries put typical D1 at 25-40%, D7 at 10-20% and D30 at 3-7%, with the aspirational
/// "40-20-10" rule of thumb above them; the defaults describe a good, not exceptional, casual game. Retention falls
/// fastest in the first days because the players who stay are the ones who were always going to stay (frailty), not
/// because any one player's hazard falls much.
/// </description></item>
/// <item><description>
/// Payer conversion: about 2-5% of players pay at least once within the horizon. Swrve's monetization reports on
/// free-to-play games in its network found 1.5% (January 2014) and 2.3% (January 2015) of players paying in a month
/// (https://www.cnbc.com/2014/02/27/a-long-tail-of-whales-half-of-mobile-games-money-comes-from-015-percent-of-players.html,
/// https://www.vox.com/2015/4/9/11561304/in-free-mobile-games-a-tiny-minority-of-whales-still-does-most-of-the). A
/// month's active players and a cohort's installs over 90 days are not the same denominator, so only the order of
/// magnitude carries over. Payers are more common on iOS and in tier-1 countries, as is commonly reported; the size of
/// those shifts is a guess.
/// </description></item>
/// <item><description>
/// Concentration: the same Swrve reports found the top 10% of payers making 51% (2014) and two-thirds (2015) of
/// purchases by value; an Everyplay survey of about 3,000 players attributed about 29% of spending to its top 1% of
/// spenders (https://www.gamedeveloper.com/business/report-29-of-mobile-game-revenue-generated-by-top-1-of-spenders).
/// The defaults give the top 10% of payers about 72-74% and the top 1% of payers (the whales) about 27-32% of horizon
/// revenue on seeds 42, 1, 2 and 3 (a little more concentrated than Swrve's 2015 figure), and the biggest spenders pay a
/// few thousand dollars in their first month.
/// </description></item>
/// </list>
/// <para>
/// Measured on seed 42 (64,289 players): D1 36.3%, D7 15.1%, D30 5.7%; 3.79% of players pay; 25 whales hold 32.1% of
/// revenue, the top 10% of payers 73.9%; revenue by day 7 is about a quarter of revenue by day 90.
/// </para>
/// <para>
/// Engagement (about three sessions on a day played), the purchase rate per session and the prices are not calibrated to
/// anything public; they were set so that the three ranges above come out.
/// </para>
/// </remarks>
public sealed record PlayerSimulationOptions
{
    /// <summary>The seed of everything random: installs, every player's latent traits and their days. Default 42.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Calendar days over which players install; day 0 is a Monday. Default 60. 1 to 3,650.</summary>
    public int InstallDays { get; init; } = 60;

    /// <summary>
    /// Mean installs per calendar day before marketing spikes (the weekly pattern averages to one over a week). Default
    /// 1,000. 1 to 1,000,000, and at most 20,000,000 over all <see cref="InstallDays"/>.
    /// </summary>
    public int PlayersPerDay { get; init; } = 1_000;

    /// <summary>Days simulated from each player's install (day 0 is the install day). Default 90. 1 to 730.</summary>
    public int HorizonDays { get; init; } = 90;

    /// <summary>
    /// Days from install the features describe (<see cref="PlayerPopulation.Features(int)"/>): the first D days, 0 to
    /// D - 1. Default 7. 1 to <see cref="HorizonDays"/>.
    /// </summary>
    public int FeatureDays { get; init; } = 7;

    /// <summary>
    /// Extra installs on Saturdays and Sundays, relative to a weekday: a weekend day has 1 + this many times a weekday's
    /// installs. Default 0.3. 0 to 5.
    /// </summary>
    public double WeekendUplift { get; init; } = 0.3;

    /// <summary>
    /// Marketing pushes: this many install days (chosen by the seed, never day 0) get <see cref="SpikeUplift"/> extra
    /// installs, all of them paid. Default 3. 0 to <see cref="InstallDays"/> - 1.
    /// </summary>
    public int MarketingSpikes { get; init; } = 3;

    /// <summary>
    /// Extra installs on a spike day, relative to what the day would have had: 1.5 gives 2.5 times the installs. Default
    /// 1.5. 0 to 20.
    /// </summary>
    public double SpikeUplift { get; init; } = 1.5;

    /// <summary>
    /// Median over players of the engagement rate: a day played has 1 + Poisson(engagement) sessions. Default 2 (median
    /// three sessions on a day played). In (0, 50].
    /// </summary>
    public double EngagementMedian { get; init; } = 2.0;

    /// <summary>Log-normal spread (sigma of the log) of the engagement rate over players. Default 0.6. 0 to 3.</summary>
    public double EngagementSigma { get; init; } = 0.6;

    /// <summary>
    /// Median over players of the chance that a player who has not churned plays on a given day after the install day
    /// (the install day is always played). Default 0.8. In (0, 1].
    /// </summary>
    public double PlayProbabilityMedian { get; init; } = 0.8;

    /// <summary>
    /// Median churn rate theta of a reference player (android, organic, non-payer; platform, channel, payers and
    /// engagement shift it, see <see cref="PlayerSimulator"/>): a player who was alive on day t churns before day t + 1
    /// with probability 1 - exp(-theta (t + 1)^-<see cref="ChurnAgeExponent"/>). Default 0.74. In (0, 100].
    /// </summary>
    public double ChurnRateMedian { get; init; } = 0.74;

    /// <summary>
    /// Log-normal spread of the churn rate over players (the frailty that makes the population's retention curve fall
    /// steeply and then flatten). Default 2.0. 0 to 5.
    /// </summary>
    public double ChurnRateSigma { get; init; } = 2.0;

    /// <summary>How much one player's churn hazard falls with age (the exponent above). Default 0.1. 0 to 3.</summary>
    public double ChurnAgeExponent { get; init; } = 0.1;

    /// <summary>
    /// Probability that a reference player (android, organic, tier 2, median engagement) is a payer, one who buys at the
    /// player's purchase rate; iOS, tier 1 and engagement raise it. Not the share of players who pay: payers who churn
    /// early often never buy. Default 0.05. In [0, 1).
    /// </summary>
    public double PayerProbability { get; init; } = 0.05;

    /// <summary>Median over payers of the purchases per session. Default 0.08. In (0, 5].</summary>
    public double PurchasesPerSessionMedian { get; init; } = 0.08;

    /// <summary>Log-normal spread of the purchases per session over payers. Default 0.7. 0 to 3.</summary>
    public double PurchasesPerSessionSigma { get; init; } = 0.7;

    /// <summary>Median over payers (android, tier 2) of the mean price of a purchase, in dollars. Default 4. In (0, 10,000].</summary>
    public double PurchaseValueMedian { get; init; } = 4.0;

    /// <summary>Log-normal spread of the mean purchase price over payers. Default 0.8. 0 to 3.</summary>
    public double PurchaseValueSigma { get; init; } = 0.8;

    /// <summary>
    /// Correlation of the log purchase rate and the log purchase price over payers: the players who buy often buy big,
    /// which is what makes whales. Default 0.5. In [-1, 1].
    /// </summary>
    public double SpendCorrelation { get; init; } = 0.5;

    /// <summary>
    /// The share of payers (players with positive horizon revenue) flagged as whales: the top this fraction by horizon
    /// revenue (see <see cref="PlayerTruth.IsWhale"/>). Default 0.01. In (0, 1].
    /// </summary>
    public double WhaleFraction { get; init; } = 0.01;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the offending setting.</summary>
    public void Validate()
    {
        Range(InstallDays, 1, 3_650, nameof(InstallDays));
        Range(PlayersPerDay, 1, 1_000_000, nameof(PlayersPerDay));
        Range((double)PlayersPerDay * InstallDays, 1, 20_000_000, nameof(PlayersPerDay));
        Range(HorizonDays, 1, 730, nameof(HorizonDays));
        Range(FeatureDays, 1, HorizonDays, nameof(FeatureDays));
        Range(WeekendUplift, 0, 5, nameof(WeekendUplift));
        Range(MarketingSpikes, 0, InstallDays - 1, nameof(MarketingSpikes));
        Range(SpikeUplift, 0, 20, nameof(SpikeUplift));
        Positive(EngagementMedian, 50, nameof(EngagementMedian));
        Range(EngagementSigma, 0, 3, nameof(EngagementSigma));
        Positive(PlayProbabilityMedian, 1, nameof(PlayProbabilityMedian));
        Positive(ChurnRateMedian, 100, nameof(ChurnRateMedian));
        Range(ChurnRateSigma, 0, 5, nameof(ChurnRateSigma));
        Range(ChurnAgeExponent, 0, 3, nameof(ChurnAgeExponent));
        if (!(PayerProbability is >= 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(PayerProbability), PayerProbability, "Players:PayerProbability must be in [0, 1).");
        }

        Positive(PurchasesPerSessionMedian, 5, nameof(PurchasesPerSessionMedian));
        Range(PurchasesPerSessionSigma, 0, 3, nameof(PurchasesPerSessionSigma));
        Positive(PurchaseValueMedian, 10_000, nameof(PurchaseValueMedian));
        Range(PurchaseValueSigma, 0, 3, nameof(PurchaseValueSigma));
        Range(SpendCorrelation, -1, 1, nameof(SpendCorrelation));
        Positive(WhaleFraction, 1, nameof(WhaleFraction));
    }

    private static void Range(double value, double min, double max, string name)
    {
        if (!(value >= min && value <= max))
        {
            throw new ArgumentOutOfRangeException(name, value, $"Players:{name} must be between {min} and {max}.");
        }
    }

    private static void Positive(double value, double max, string name)
    {
        if (!(value > 0 && value <= max))
        {
            throw new ArgumentOutOfRangeException(name, value, $"Players:{name} must be in (0, {max}].");
        }
    }
}
