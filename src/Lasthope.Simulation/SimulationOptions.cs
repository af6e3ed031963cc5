using Lasthope.Core.Segments;

namespace Lasthope.Simulation;

/// <summary>
/// Parameters of a simulated world and its traffic. Every default is chosen so that <c>new SimulationOptions()</c> is a
/// realistic, learnable world that runs fast; change one with <c>with</c>: <c>new SimulationOptions { Seed = 7 }</c>.
/// The model of attractiveness these parameters feed is described on <see cref="TrafficGenerator"/>.
/// </summary>
public sealed record SimulationOptions
{
    /// <summary>The default <see cref="StartTime"/>: Monday 2025-01-06 00:00 UTC.</summary>
    public static readonly DateTimeOffset DefaultStartTime = new(2025, 1, 6, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The seed of everything random: the world, the users, the traffic and the clicks. Default 42.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>
    /// Event time of the start of simulated day 0. Fixed by default (<see cref="DefaultStartTime"/>) so that two runs
    /// with the same seed produce the same timestamps; the offset must be zero (UTC), because days are UTC days.
    /// </summary>
    public DateTimeOffset StartTime { get; init; } = DefaultStartTime;

    /// <summary>
    /// Items live at the start. Default 300; raise it above 1,000 to serve 1,000 distinct candidates per request from the
    /// start. Up to 1,000,000.
    /// </summary>
    public int InitialItemCount { get; init; } = 300;

    /// <summary>
    /// How long before <see cref="StartTime"/> the initial items were published (uniformly over this span), so that the
    /// catalogue starts with a spread of ages rather than all brand new. Default 90 days; zero is allowed.
    /// </summary>
    public TimeSpan InitialItemAgeSpan { get; init; } = TimeSpan.FromDays(90);

    /// <summary>
    /// Items published per simulated day, at jittered times evenly spread over the day. Default 10 (3% of the default
    /// catalogue a day: enough that novelty visibly changes the best items within a week). 0 to 100,000.
    /// </summary>
    public int NewItemsPerDay { get; init; } = 10;

    /// <summary>
    /// How long an item stays in the catalogue after it is published; it leaves at the start of the first day after its
    /// lifetime ends. Null (the default) keeps every item forever. At least one day.
    /// </summary>
    public TimeSpan? ItemLifetime { get; init; }

    /// <summary>Number of item categories; segments prefer categories differently. Default 12; 1 to 1,000.</summary>
    public int CategoryCount { get; init; } = 12;

    /// <summary>Number of users. Default 5,000. 1 to 10,000,000.</summary>
    public int UserCount { get; init; } = 5_000;

    /// <summary>
    /// Fraction of users whose requests carry no usable age or gender, so the server sees them in segment
    /// <see cref="SegmentScheme.Unknown"/>. They still have a true age and gender, which drive their clicks.
    /// Default 0.05. In [0, 1).
    /// </summary>
    public double UnknownUserFraction { get; init; } = 0.05;

    /// <summary>
    /// The segment grid users are drawn over: each age band and gender gets an equal share of the known users, so every
    /// grid segment is populated. Default: the 10 segments of <see cref="SegmentScheme.Default"/>.
    /// </summary>
    public SegmentOptions Segments { get; init; } = new();

    /// <summary>
    /// Rank requests per simulated day. Default 10,000: about 1,000 per segment a day, which the heuristic learns a
    /// segment's best items from within a few days, and 28 days of which a demo sends in minutes. 1 to 100,000,000.
    /// </summary>
    public int RequestsPerDay { get; init; } = 10_000;

    /// <summary>
    /// Relative amplitude of the daily traffic cycle: the request rate is (1 + A cos(2 pi (h - peak) / 24)) times the
    /// mean. Default 0.5 (the evening peak carries three times the traffic of the early-morning trough). In [0, 1).
    /// </summary>
    public double DailyCycleAmplitude { get; init; } = 0.5;

    /// <summary>Hour of the day (UTC, 0 to 24) at which the traffic peaks. Default 20.</summary>
    public double PeakHour { get; init; } = 20.0;

    /// <summary>
    /// Candidates per request, sampled uniformly without replacement from the items live at the request's time, or the
    /// whole live catalogue when it is smaller. Default 200; 1 to 10,000.
    /// </summary>
    public int CandidatesPerRequest { get; init; } = 200;

    /// <summary>Examination probability by position. Default <see cref="PositionBias.Default"/>: (1/p)^0.7 to depth 50.</summary>
    public PositionBias PositionBias { get; init; } = PositionBias.Default;

    /// <summary>
    /// The attractiveness P(click | examined) of a typical item: the logit intercept of the model is logit of this value,
    /// so it is about the median click-through rate at position 1 (a little less, as the catalogue ages). Default 0.03, a
    /// few percent as in feeds and shops; a segment's 10th best item is then at about 10 to 20% and its best at 15 to
    /// 35%. In (0, 0.5].
    /// </summary>
    public double BaselineCtr { get; init; } = 0.03;

    /// <summary>Standard deviation of item quality, in logits, shared by all segments. Default 0.4. 0 to 5.</summary>
    public double QualitySpread { get; init; } = 0.4;

    /// <summary>
    /// Standard deviation of a segment's preference for a category, in logits. It is what makes segments differ: at the
    /// default 0.7 the true top 10 of two segments share about a quarter of their items. 0 to 5.
    /// </summary>
    public double SegmentPreferenceSpread { get; init; } = 0.7;

    /// <summary>Standard deviation of the item x segment idiosyncratic affinity, in logits. Default 0.25. 0 to 5.</summary>
    public double AffinitySpread { get; init; } = 0.25;

    /// <summary>
    /// Standard deviation of the noise on the <c>quality_signal</c> feature, in logits: the feature is
    /// 3.5 + quality + noise (clamped to 1..5, one decimal, like a star rating). Default 0.5, which makes it correlate
    /// with quality at about 0.6: predictive, not a leak. 0 to 10.
    /// </summary>
    public double QualitySignalNoise { get; init; } = 0.5;

    /// <summary>
    /// Strength of the drift over days, in logits: each item's appeal wanders by a smooth random curve with this standard
    /// deviation (two sinusoids with periods of 20 to 90 days), and each segment's category preferences by half of it
    /// (periods of 21 to 90 days). Default 0.25: by drift alone a segment's true top 10 keeps about 95% of its items from
    /// one day to the next, 70% over a week and half over two weeks. 0 to 5.
    /// </summary>
    public double DriftStrength { get; init; } = 0.25;

    /// <summary>
    /// Extra appeal of a brand-new item, in logits, decaying as exp(-age / <see cref="NoveltyDays"/>). Default 0.4 (a new
    /// item is about 1.5 times as attractive as it will be a few weeks later), so that new items enter the top lists
    /// (with drift, a segment's true top 10 keeps about 85% of its items from one day to the next and half over a week)
    /// and a ranker that only trusts old counts falls behind. 0 to 5.
    /// </summary>
    public double NoveltyBoost { get; init; } = 0.4;

    /// <summary>Time constant of the novelty decay, in days. Default 5. In (0, 365].</summary>
    public double NoveltyDays { get; init; } = 5.0;

    /// <summary>
    /// Loss of appeal with age, in logits: aging x ln(1 + age / 30 days). Default 0.2 (an item 90 days old has lost 0.28
    /// logits). 0 to 5.
    /// </summary>
    public double AgingStrength { get; init; } = 0.2;

    /// <summary>Throws <see cref="ArgumentException"/> naming the offending setting.</summary>
    public void Validate()
    {
        if (StartTime.Offset != TimeSpan.Zero)
        {
            throw new ArgumentException("Simulation:StartTime must be in UTC (offset zero).", nameof(StartTime));
        }

        Range(InitialItemCount, 1, 1_000_000, nameof(InitialItemCount));
        if (InitialItemAgeSpan < TimeSpan.Zero || InitialItemAgeSpan > TimeSpan.FromDays(3650))
        {
            throw new ArgumentException("Simulation:InitialItemAgeSpan must be between 0 and 3,650 days.", nameof(InitialItemAgeSpan));
        }

        Range(NewItemsPerDay, 0, 100_000, nameof(NewItemsPerDay));
        if (ItemLifetime is { } lifetime && lifetime < TimeSpan.FromDays(1))
        {
            throw new ArgumentException("Simulation:ItemLifetime must be at least one day, or null.", nameof(ItemLifetime));
        }

        Range(CategoryCount, 1, 1_000, nameof(CategoryCount));
        Range(UserCount, 1, 10_000_000, nameof(UserCount));
        Range(UnknownUserFraction, 0, 0.999999, nameof(UnknownUserFraction));
        if (Segments is null)
        {
            throw new ArgumentException("Simulation:Segments is required.", nameof(Segments));
        }

        Core.Segments.SegmentOptionsValidator.ThrowIfInvalid(Segments);
        Range(RequestsPerDay, 1, 100_000_000, nameof(RequestsPerDay));
        Range(DailyCycleAmplitude, 0, 0.999999, nameof(DailyCycleAmplitude));
        Range(PeakHour, 0, 24, nameof(PeakHour));
        Range(CandidatesPerRequest, 1, 10_000, nameof(CandidatesPerRequest));
        if (PositionBias is null)
        {
            throw new ArgumentException("Simulation:PositionBias is required.", nameof(PositionBias));
        }

        if (!(BaselineCtr is > 0 and <= 0.5))
        {
            throw new ArgumentException("Simulation:BaselineCtr must be in (0, 0.5].", nameof(BaselineCtr));
        }

        Range(QualitySpread, 0, 5, nameof(QualitySpread));
        Range(SegmentPreferenceSpread, 0, 5, nameof(SegmentPreferenceSpread));
        Range(AffinitySpread, 0, 5, nameof(AffinitySpread));
        Range(QualitySignalNoise, 0, 10, nameof(QualitySignalNoise));
        Range(DriftStrength, 0, 5, nameof(DriftStrength));
        Range(NoveltyBoost, 0, 5, nameof(NoveltyBoost));
        if (!(NoveltyDays is > 0 and <= 365))
        {
            throw new ArgumentException("Simulation:NoveltyDays must be in (0, 365].", nameof(NoveltyDays));
        }

        Range(AgingStrength, 0, 5, nameof(AgingStrength));
    }

    private static void Range(double value, double min, double max, string name)
    {
        if (!(value >= min && value <= max))
        {
            throw new ArgumentException($"Simulation:{name} must be between {min} and {max} (was {value}).", name);
        }
    }
}
