using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Lasthope.Simulation.Internal;

namespace Lasthope.Simulation.Players;

/// <summary>
/// A seeded simulated mobile game: players install over <see cref="PlayerSimulationOptions.InstallDays"/>, play, pay and
/// churn over <see cref="PlayerSimulationOptions.HorizonDays"/> days from install, and the truth of each player's value is
/// known. For LTV demos: predict from the first D days (<see cref="PlayerPopulation.Features(int)"/>), score against the
/// horizon (<see cref="PlayerPopulation.Truth(int)"/>), compare with the BI heuristic (<see cref="CohortMultiplier"/>).
/// </summary>
/// <remarks>
/// <para>
/// <b>Installs.</b> Calendar day d (day 0 a Monday) expects <see cref="PlayerSimulationOptions.PlayersPerDay"/> times a
/// weekly factor (weekend days have 1 + <see cref="PlayerSimulationOptions.WeekendUplift"/> times a weekday's installs,
/// normalised so the week averages one) times 1 + <see cref="PlayerSimulationOptions.SpikeUplift"/> on a marketing spike
/// day. The count is that mean plus Poisson-sized noise, round(m + sqrt(m) z). At install a player draws a country tier
/// (1, 2, 3 with probabilities 0.30, 0.35, 0.35), a platform (iOS with probability 0.55, 0.35, 0.15 by tier) and a
/// channel (organic 0.50, paid 0.35, social 0.15; the extra installs of a spike day are all paid).
/// </para>
/// <para>
/// <b>Latent traits</b> (<see cref="PlayerLatent"/>), from independent standard normals z_e, z_q, z_c, z_r, z_v:
/// engagement lambda = median_e exp(sigma_e z_e) (at most 50); play probability q = logistic(logit median_q + 0.8 z_q
/// + 0.3 z_e); payer with probability logistic(logit p + 0.6 [ios] + (0.5, 0, -0.7)[tier] + 0.4 z_e); purchases per
/// session r = median_r exp(sigma_r z_r) (at most 5); mean price v = median_v exp(sigma_v (rho z_r + sqrt(1 - rho^2) z_v)
/// + (0.3, 0, -0.4)[tier] + 0.1 [ios]); churn rate theta = median_c exp(sigma_c (-0.3 z_e + sqrt(0.91) z_c) - 0.2 [ios]
/// + 0.3 [paid] - 0.15 [social] - 0.5 [payer]). The medians and sigmas are the options'; the shifts are fixed here.
/// Engaged players churn less and pay more often; payers churn less; frequent buyers buy big (rho), which with the
/// log-normal tails of r and v makes whales.
/// </para>
/// <para>
/// <b>Days</b> t = 0 .. H - 1 from install. The install day is played; a later day is played with probability q while
/// the player has not churned. A day played has 1 + Poisson(lambda) sessions s, and a payer makes Poisson(r s)
/// purchases, each costing v exp(0.5 g - 0.125) for a standard normal g (mean v), rounded to the cent (at least a cent).
/// After day t the player churns with probability 1 - exp(-theta a(t)), a(t) = (t + 1)^-beta, and never returns.
/// </para>
/// <para>
/// <b>Truth.</b> Since the days are independent given the traits, the true LTV over the horizon is, for a payer,
/// E[R_H] = r v (1 + lambda) (1 + q sum over t = 1 .. H - 1 of exp(-theta A(t))), with A(t) = a(0) + ... + a(t - 1) the
/// cumulative hazard to day t, and zero for a non-payer (the cent rounding is ignored: it moves a purchase by at most half
/// a cent, and by nothing on average). Early days carry signal (sessions show lambda, purchases show r and v, playing
/// at all shows theta) without settling anything: whether and when a player churns is drawn day by day.
/// </para>
/// <para>
/// <b>Determinism.</b> A player's traits come from a generator keyed by (seed, install day, ordinal in the day) and the
/// days from another, so a player does not change when other settings add players or days, and nothing reads a clock.
/// </para>
/// </remarks>
public sealed class PlayerSimulator
{
    internal const double MaxEngagement = 50;
    internal const double MaxPurchasesPerSession = 5;
    private const double PriceSigma = 0.5;
    private const double PlaySpread = 0.8;

    private static readonly double[] TierCumulative = [0.30, 0.65, 1.0];
    private static readonly double[] IosShareByTier = [0.55, 0.35, 0.15];
    private static readonly double[] PayerShiftByTier = [0.5, 0.0, -0.7];
    private static readonly double[] ValueShiftByTier = [0.3, 0.0, -0.4];

    private readonly PlayerSimulationOptions _options;
    private readonly int[] _spikeDays;

    /// <summary>Prepares a simulation of <paramref name="options"/> (validated first).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the exception names it.</exception>
    public PlayerSimulator(PlayerSimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _spikeDays = ChooseSpikeDays(options);
    }

    /// <summary>The options simulated.</summary>
    public PlayerSimulationOptions Options => _options;

    /// <summary>The calendar days of the marketing spikes, ascending.</summary>
    public IReadOnlyList<int> SpikeDays => _spikeDays;

    /// <summary>The mean installs of calendar day <paramref name="day"/>, before the noise of the count.</summary>
    public double ExpectedInstalls(int day)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(day);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(day, _options.InstallDays);
        var uplift = _options.WeekendUplift;
        var weekday = 7.0 / (5 + (2 * (1 + uplift)));
        var weekly = day % 7 >= 5 ? (1 + uplift) * weekday : weekday;
        var spike = Array.BinarySearch(_spikeDays, day) >= 0 ? 1 + _options.SpikeUplift : 1;
        return _options.PlayersPerDay * weekly * spike;
    }

    /// <summary>
    /// Simulates every player over the whole horizon. Single-threaded and allocation-light (a byte per player-day for the
    /// sessions, an entry per day with a purchase): 60,000 players in well under a second.
    /// </summary>
    public PlayerPopulation Simulate()
    {
        var o = _options;
        var horizon = o.HorizonDays;
        var counts = new int[o.InstallDays];
        var total = 0L;
        for (var d = 0; d < counts.Length; d++)
        {
            var mean = ExpectedInstalls(d);
            var rng = Keys.Random(o.Seed, Internal.Stream.PlayerInstalls, d);
            counts[d] = (int)Math.Max(0, Math.Round(mean + (Math.Sqrt(mean) * rng.NextGaussian())));
            total += counts[d];
        }

        if (total > int.MaxValue / Math.Max(1, horizon))
        {
            throw new ArgumentOutOfRangeException(nameof(o.PlayersPerDay), o.PlayersPerDay, "Players:PlayersPerDay x InstallDays x HorizonDays is too large to simulate in memory.");
        }

        var n = (int)total;
        var players = new SimulatedPlayer[n];
        var sessions = new byte[n * horizon];
        var purchaseStart = new int[n + 1];
        var purchases = new List<PurchaseDay>(Math.Max(16, n / 4));
        var horizonRevenue = new double[n];
        var expected = new double[n];

        // a(t) and the cumulative hazard A(t) = a(0) + ... + a(t - 1), shared by every player.
        var hazard = new double[horizon];
        var cumulative = new double[horizon];
        for (var t = 0; t < horizon; t++)
        {
            hazard[t] = Math.Pow(t + 1, -o.ChurnAgeExponent);
            cumulative[t] = t == 0 ? 0 : cumulative[t - 1] + hazard[t - 1];
        }

        var index = 0;
        for (var day = 0; day < counts.Length; day++)
        {
            var spikeShare = Array.BinarySearch(_spikeDays, day) >= 0 ? o.SpikeUplift / (1 + o.SpikeUplift) : 0.0;
            for (var ordinal = 0; ordinal < counts[day]; ordinal++, index++)
            {
                var player = DrawPlayer(o, index, day, ordinal, spikeShare);
                purchaseStart[index] = purchases.Count;
                var activity = Keys.Random(o.Seed, Internal.Stream.PlayerActivity, day, ordinal);
                var churnDay = Live(ref activity, player.Latent, hazard, sessions.AsSpan(index * horizon, horizon), purchases, out horizonRevenue[index]);
                players[index] = player with { ChurnDay = churnDay };
                expected[index] = ExpectedRevenue(player.Latent, cumulative);
            }
        }

        purchaseStart[n] = purchases.Count;
        return new PlayerPopulation(o, _spikeDays, counts, players, sessions, purchaseStart, [.. purchases], horizonRevenue, expected);
    }

    /// <summary>
    /// E[R_H | traits] = r v (1 + lambda) (1 + q sum_{t=1}^{H-1} exp(-theta A(t))) for a payer, 0 otherwise: the expected
    /// purchases of a day played are r (1 + lambda), each of mean price v, and day t is played with probability 1 at t = 0
    /// and q exp(-theta A(t)) after (alive through t - 1's churn draws, then plays).
    /// </summary>
    internal static double ExpectedRevenue(in PlayerLatent latent, ReadOnlySpan<double> cumulative)
    {
        if (!latent.IsPayer)
        {
            return 0;
        }

        var days = 0.0;
        for (var t = 1; t < cumulative.Length; t++)
        {
            var alive = Math.Exp(-latent.ChurnRate * cumulative[t]);
            if (alive < 1e-12)
            {
                break; // the rest of the sum is below 1e-12 per day: nothing at the cent
            }

            days += alive;
        }

        return latent.PurchasesPerSession * latent.PurchaseValue * (1 + latent.Engagement) * (1 + (latent.PlayProbability * days));
    }

    private static SimulatedPlayer DrawPlayer(PlayerSimulationOptions o, int index, int day, int ordinal, double spikeShare)
    {
        // Every draw is made whatever the branch, so that changing one setting does not reshuffle a player's other traits.
        var rng = Keys.Random(o.Seed, Internal.Stream.Player, day, ordinal);
        var uTier = rng.NextDouble();
        var uPlatform = rng.NextDouble();
        var uSpike = rng.NextDouble();
        var uChannel = rng.NextDouble();
        var zEngagement = rng.NextGaussian();
        var zPlay = rng.NextGaussian();
        var zChurn = rng.NextGaussian();
        var uPayer = rng.NextDouble();
        var zRate = rng.NextGaussian();
        var zValue = rng.NextGaussian();

        var tier = uTier < TierCumulative[0] ? 1 : uTier < TierCumulative[1] ? 2 : 3;
        var platform = uPlatform < IosShareByTier[tier - 1] ? Platform.Ios : Platform.Android;
        var channel = uSpike < spikeShare
            ? AcquisitionChannel.Paid
            : uChannel < 0.50 ? AcquisitionChannel.Organic : uChannel < 0.85 ? AcquisitionChannel.Paid : AcquisitionChannel.Social;
        var ios = platform == Platform.Ios ? 1.0 : 0.0;

        var engagement = Math.Min(MaxEngagement, o.EngagementMedian * Math.Exp(o.EngagementSigma * zEngagement));
        var play = o.PlayProbabilityMedian >= 1 ? 1.0 : Logistic(Logit(o.PlayProbabilityMedian) + (PlaySpread * zPlay) + (0.3 * zEngagement));
        var payerLogit = Logit(o.PayerProbability) + (0.6 * ios) + PayerShiftByTier[tier - 1] + (0.4 * zEngagement);
        var isPayer = o.PayerProbability > 0 && uPayer < Logistic(payerLogit);
        var rate = Math.Min(MaxPurchasesPerSession, o.PurchasesPerSessionMedian * Math.Exp(o.PurchasesPerSessionSigma * zRate));
        var rho = o.SpendCorrelation;
        var value = o.PurchaseValueMedian * Math.Exp(
            (o.PurchaseValueSigma * ((rho * zRate) + (Math.Sqrt(1 - (rho * rho)) * zValue))) + ValueShiftByTier[tier - 1] + (0.1 * ios));
        var channelShift = channel switch
        {
            AcquisitionChannel.Paid => 0.3,
            AcquisitionChannel.Social => -0.15,
            _ => 0.0,
        };
        var churn = o.ChurnRateMedian * Math.Exp(
            (o.ChurnRateSigma * ((-0.3 * zEngagement) + (Math.Sqrt(0.91) * zChurn))) - (0.2 * ios) + channelShift - (isPayer ? 0.5 : 0.0));

        var latent = new PlayerLatent(engagement, play, churn, isPayer, isPayer ? rate : 0.0, value);
        return new SimulatedPlayer(index, day, platform, channel, tier, latent, null);
    }

    /// <summary>Plays the days of one player into <paramref name="sessions"/> and <paramref name="purchases"/>; returns the churn day.</summary>
    private static int? Live(
        ref SimRandom rng, in PlayerLatent latent, double[] hazard, Span<byte> sessions, List<PurchaseDay> purchases, out double revenue)
    {
        revenue = 0;
        for (var t = 0; t < sessions.Length; t++)
        {
            if (t == 0 || rng.NextDouble() < latent.PlayProbability)
            {
                var s = 1 + Poisson(ref rng, latent.Engagement);
                sessions[t] = (byte)Math.Min(s, byte.MaxValue);
                if (latent.IsPayer)
                {
                    var k = Poisson(ref rng, latent.PurchasesPerSession * s);
                    if (k > 0)
                    {
                        var dayRevenue = 0.0;
                        var max = 0.0;
                        for (var j = 0; j < k; j++)
                        {
                            var price = Math.Max(0.01, Math.Round(latent.PurchaseValue * Math.Exp((PriceSigma * rng.NextGaussian()) - (PriceSigma * PriceSigma / 2)), 2));
                            dayRevenue += price;
                            max = Math.Max(max, price);
                        }

                        dayRevenue = Math.Round(dayRevenue, 2);
                        revenue += dayRevenue;
                        purchases.Add(new PurchaseDay((short)t, (ushort)Math.Min(k, ushort.MaxValue), dayRevenue, max));
                    }
                }
            }

            if (rng.NextDouble() < -double.ExpM1(-latent.ChurnRate * hazard[t]))
            {
                revenue = Math.Round(revenue, 2);
                return t + 1 < sessions.Length ? t + 1 : null;
            }
        }

        revenue = Math.Round(revenue, 2);
        return null;
    }

    /// <summary>
    /// Poisson by Knuth's product of uniforms (TAOCP vol. 2, 3.4.1), exact and quick for the small means here; a larger
    /// mean is split into pieces of at most 30, since a sum of independent Poissons is Poisson with the summed mean.
    /// </summary>
    private static int Poisson(ref SimRandom rng, double mean)
    {
        var count = 0;
        while (mean > 30)
        {
            count += PoissonSmall(ref rng, 30);
            mean -= 30;
        }

        return count + PoissonSmall(ref rng, mean);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int PoissonSmall(ref SimRandom rng, double mean)
    {
        if (mean <= 0)
        {
            return 0;
        }

        var limit = Math.Exp(-mean);
        var k = 0;
        var p = rng.NextDouble();
        while (p > limit)
        {
            k++;
            p *= rng.NextDouble();
        }

        return k;
    }

    private static int[] ChooseSpikeDays(PlayerSimulationOptions o)
    {
        // A partial Fisher-Yates over days 1 .. InstallDays - 1: distinct days, uniformly.
        var rng = Keys.Random(o.Seed, Internal.Stream.PlayerInstalls, -1);
        var days = new int[o.InstallDays - 1];
        for (var i = 0; i < days.Length; i++)
        {
            days[i] = i + 1;
        }

        for (var k = 0; k < o.MarketingSpikes; k++)
        {
            var j = k + rng.NextInt(days.Length - k);
            (days[k], days[j]) = (days[j], days[k]);
        }

        var chosen = days[..o.MarketingSpikes];
        Array.Sort(chosen);
        return chosen;
    }

    private static double Logit(double p) => Math.Log(p / (1 - p));

    private static double Logistic(double x) => 1 / (1 + Math.Exp(-x));
}

/// <summary>The purchases of one player on one day: a sparse entry, since few players ever pay.</summary>
[StructLayout(LayoutKind.Auto)]
internal readonly record struct PurchaseDay(short Day, ushort Count, double Revenue, double MaxPurchase);
