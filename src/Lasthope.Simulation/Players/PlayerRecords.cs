namespace Lasthope.Simulation.Players;

/// <summary>The store a player installed from. Written as <c>android</c> and <c>ios</c> (<see cref="PlayerCategories"/>).</summary>
public enum Platform
{
    /// <summary>Google Play.</summary>
    Android = 0,

    /// <summary>The App Store: more payers, slightly better retention.</summary>
    Ios = 1,
}

/// <summary>How a player came to install. Written as <c>organic</c>, <c>paid</c> and <c>social</c>.</summary>
public enum AcquisitionChannel
{
    /// <summary>Store search and browsing.</summary>
    Organic = 0,

    /// <summary>Paid user acquisition (ads); every install a marketing spike adds is paid. Churns faster.</summary>
    Paid = 1,

    /// <summary>Invites and shares; churns a little slower than organic.</summary>
    Social = 2,
}

/// <summary>What a player did on one day after install.</summary>
public enum PlayerDayState
{
    /// <summary>Played: one session or more.</summary>
    Active = 0,

    /// <summary>Has not churned but did not play that day.</summary>
    Idle = 1,

    /// <summary>Churned on or before that day; a churned player never comes back.</summary>
    Churned = 2,
}

/// <summary>The wire names of the categorical attributes, as the CSV writes them: closed sets, lower case.</summary>
public static class PlayerCategories
{
    /// <summary><c>android</c> or <c>ios</c>.</summary>
    public static string Name(Platform platform) => platform switch
    {
        Platform.Android => "android",
        Platform.Ios => "ios",
        _ => throw new ArgumentOutOfRangeException(nameof(platform), platform, "Not a platform."),
    };

    /// <summary><c>organic</c>, <c>paid</c> or <c>social</c>.</summary>
    public static string Name(AcquisitionChannel channel) => channel switch
    {
        AcquisitionChannel.Organic => "organic",
        AcquisitionChannel.Paid => "paid",
        AcquisitionChannel.Social => "social",
        _ => throw new ArgumentOutOfRangeException(nameof(channel), channel, "Not a channel."),
    };

    /// <summary>
    /// <c>tier1</c>, <c>tier2</c> or <c>tier3</c>: written as a word, not a number, so that a generic trainer reads it
    /// as a category.
    /// </summary>
    public static string CountryTierName(int tier) => tier switch
    {
        1 => "tier1",
        2 => "tier2",
        3 => "tier3",
        _ => throw new ArgumentOutOfRangeException(nameof(tier), tier, "Country tiers are 1, 2 and 3."),
    };
}

/// <summary>The hidden traits of a player, drawn once at install; what the truth (<see cref="PlayerTruth.ExpectedRevenue"/>) is computed from.</summary>
/// <param name="Engagement">Rate of extra sessions: a day played has 1 + Poisson(Engagement) sessions.</param>
/// <param name="PlayProbability">Chance of playing on a day after the install day while not churned.</param>
/// <param name="ChurnRate">Theta of the churn hazard 1 - exp(-theta (t + 1)^-beta) after day t.</param>
/// <param name="IsPayer">Whether the player buys at all; a payer may still churn before the first purchase.</param>
/// <param name="PurchasesPerSession">Mean purchases per session of a payer (zero for a non-payer).</param>
/// <param name="PurchaseValue">Mean price of a purchase in dollars (drawn for every player; used only by payers).</param>
public readonly record struct PlayerLatent(
    double Engagement, double PlayProbability, double ChurnRate, bool IsPayer, double PurchasesPerSession, double PurchaseValue);

/// <summary>A simulated player: what a studio knows at install, and the hidden traits.</summary>
/// <param name="Index">0-based index in install order: by install day, then by order within the day.</param>
/// <param name="InstallDay">Calendar day of install (the cohort), 0 to <see cref="PlayerSimulationOptions.InstallDays"/> - 1.</param>
/// <param name="Platform">The store.</param>
/// <param name="Channel">The acquisition channel.</param>
/// <param name="CountryTier">1 (richest markets), 2 or 3.</param>
/// <param name="Latent">The hidden traits.</param>
/// <param name="ChurnDay">
/// The first day after install on which the player is churned, or null when the player is still alive on the last day of
/// the horizon.
/// </param>
public sealed record SimulatedPlayer(
    int Index, int InstallDay, Platform Platform, AcquisitionChannel Channel, int CountryTier, PlayerLatent Latent, int? ChurnDay);

/// <summary>One day of one player.</summary>
/// <param name="Day">Days since install, 0 to <see cref="PlayerSimulationOptions.HorizonDays"/> - 1.</param>
/// <param name="Sessions">Sessions that day (0 unless <see cref="State"/> is active).</param>
/// <param name="Purchases">Purchases that day.</param>
/// <param name="Revenue">Dollars spent that day, to the cent.</param>
/// <param name="State">Active, idle or churned.</param>
public readonly record struct PlayerDay(int Day, int Sessions, int Purchases, double Revenue, PlayerDayState State);

/// <summary>
/// What a studio knows of a player <see cref="FeatureDays"/> days after install: the inputs of an LTV prediction. Days
/// are counted from install: day 0 is the install day and the features cover days 0 to <see cref="FeatureDays"/> - 1.
/// </summary>
/// <param name="FeatureDays">D, the days observed.</param>
/// <param name="InstallDay">Calendar day of install (the cohort).</param>
/// <param name="Platform">The store.</param>
/// <param name="Channel">The acquisition channel.</param>
/// <param name="CountryTier">1, 2 or 3.</param>
/// <param name="Sessions">Sessions over the D days.</param>
/// <param name="ActiveDays">Days with a session, 1 to D (the install day is always played).</param>
/// <param name="SessionsLastDay">Sessions on day D - 1, the last day observed (0 when the player did not play it).</param>
/// <param name="Purchases">Purchases over the D days.</param>
/// <param name="Revenue">Dollars spent over the D days.</param>
/// <param name="MaxPurchase">The largest single purchase over the D days, in dollars; 0 with no purchase.</param>
/// <param name="FirstPurchaseDay">Day (since install) of the first purchase within the D days; NaN with none.</param>
public readonly record struct PlayerFeatures(
    int FeatureDays,
    int InstallDay,
    Platform Platform,
    AcquisitionChannel Channel,
    int CountryTier,
    int Sessions,
    int ActiveDays,
    int SessionsLastDay,
    int Purchases,
    double Revenue,
    double MaxPurchase,
    double FirstPurchaseDay);

/// <summary>What an LTV prediction is scored against.</summary>
/// <param name="HorizonDays">H, the days from install the truth covers (days 0 to H - 1).</param>
/// <param name="Revenue">Realised dollars over the horizon: what actually happened, churn and luck included.</param>
/// <param name="ExpectedRevenue">
/// The true LTV: the expected horizon revenue given the player's latent traits (<see cref="PlayerLatent"/>), exactly
/// as <see cref="PlayerSimulator"/> derives it; it averages out the randomness of churn, play and purchases, which no
/// prediction can foresee. Zero for a non-payer.
/// </param>
/// <param name="IsWhale">
/// Among the top <see cref="PlayerSimulationOptions.WhaleFraction"/> of payers by <see cref="Revenue"/> (see
/// <see cref="PlayerPopulation.WhaleCount"/> for the exact rule).
/// </param>
public readonly record struct PlayerTruth(int HorizonDays, double Revenue, double ExpectedRevenue, bool IsWhale);

/// <summary>One row of the feature and truth table (<see cref="PlayerCsv"/>).</summary>
/// <param name="Index">The player's index.</param>
/// <param name="Features">The first D days.</param>
/// <param name="Truth">The horizon.</param>
public readonly record struct PlayerRow(int Index, PlayerFeatures Features, PlayerTruth Truth);
